"""A device adapter that speaks JSON over HTTP to a device endpoint (a lab rig, or ``s1sr serve-device``).

Wire protocol, version 1 (all bodies JSON, UTF-8; shapes and bounds in :mod:`s1sr.devices.wire`,
published as ``docs/device-protocol.openapi.json``):

=========  ==================  =====================================================  ==================================
method     path                request body                                           answer (200)
=========  ==================  =====================================================  ==================================
GET        /v1/devices                                                                ``{"devices": [DeviceInfo...]}``
POST       /v1/reset           ``{}``                                                 ``{}``
POST       /v1/execute         ``{"command": {name, device_id, fields, defaults},``  ``{"reply": {accepted, values,``
                               ``"timeout_s": 30.0}``                                 ``reason}}``
GET        /v1/snapshot                                                               ``{"snapshot": {EUI-64: {...}}}``
=========  ==================  =====================================================  ==================================

A device that does not answer within ``timeout_s`` is reported as HTTP 504 with
``{"error": {"kind": "timeout", "message": ...}}``; a device or link fault as 502 with
``"kind": "fault"``; a malformed call as 400. DeviceInfo is ``{device_id, device_model,
device_type, han}``. With a token, every call sends ``Authorization: Bearer TOKEN``.

Two kinds of failure are told apart, for a pool of rigs (:mod:`s1sr.devices.pool`): the rig
answered, in protocol v1, that its device or the call failed (400, 413, 500, 502 with the
protocol's error body: a :class:`DeviceFault`, and the next scenario may use the rig again), or
the rig itself stopped answering: no connection, no answer in time, a timeout the endpoint
reports (504), or an answer outside protocol v1 (any other status, a redirect, an error without
the protocol's body, a body that is not the call's answer). Those raise :class:`EndpointDown` or
:class:`EndpointTimeout` (both :class:`RigDown`).

Options: ``url`` (``--device-url``), ``token`` (else the environment variable
``S1SR_DEVICE_TOKEN``) and ``timeout_s``, the run's ``--timeout``: every call ends within
its timeout plus :data:`TRANSPORT_MARGIN_S`, answers or not. Answers are read up to
:data:`s1sr.devices.wire.MAX_ANSWER_BYTES`; redirects are refused.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

import httpx

from s1sr import __version__
from s1sr.bounded_http.client import read_answer
from s1sr.catalogue import DMC
from s1sr.devices import wire
from s1sr.devices.adapter import DEFAULT_TIMEOUT_S, DeviceAdapter, DeviceError, DeviceFault, DeviceInfo, DeviceTimeout
from s1sr.devices.commands import DeviceCommand, DeviceReply
from s1sr.errors import ConfigError

#: Extra seconds allowed for the HTTP round trip on top of a call's own timeout.
TRANSPORT_MARGIN_S = 5.0
#: Environment variable holding the endpoint's token (safer than a command line, which others can read).
TOKEN_VARIABLE = "S1SR_DEVICE_TOKEN"
OPTIONS = ("url", "token", "timeout_s")
#: Error answers in which the rig reports on its device or on the call: the rig itself still answers.
DEVICE_STATUSES = frozenset({400, 413, 500, 502})
T = TypeVar("T")


class RigDown(DeviceError):
    """The endpoint itself stopped answering (not one device's fault): no answer, none in time, or none in protocol."""


class EndpointDown(RigDown, DeviceFault):
    """No connection to the endpoint, or an answer outside protocol v1."""


class EndpointTimeout(RigDown, DeviceTimeout):
    """No answer from the endpoint in time, or the endpoint reported that its devices did not answer (504)."""


class RemoteAdapter(DeviceAdapter):
    """Devices behind a JSON-over-HTTP endpoint (option ``url``)."""

    name = "remote"
    #: The option a harness sets to the run's ``--timeout`` when the user has not given it.
    run_timeout_option: ClassVar[str] = "timeout_s"

    def __init__(self, dmc: DMC, url: str, *, token: str | None = None, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        self.dmc = dmc
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        # Joined with "v1/...": a path prefix (a proxy's /rig1) is kept, and a URL that already ends in
        # the protocol's /v1 names the same endpoint (not /v1/v1/...).
        root = self.url.removesuffix("/v1") if httpx.URL(self.url).path.endswith("/v1") else self.url
        self._base = httpx.URL(root + "/")
        headers = {"Accept": "application/json", "Accept-Encoding": "identity", "User-Agent": f"s1sr/{__version__}"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(
            headers=headers,
            follow_redirects=False,
            trust_env=False,  # the endpoint is called directly: no proxy or .netrc from the environment
            # Idle connections are dropped before the server's keep-alive (5 s) would close them under us.
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=2, keepalive_expiry=2.0),
        )

    @classmethod
    def create(cls, dmc: DMC, options: Mapping[str, str]) -> RemoteAdapter:
        """Connect to ``url`` and check that the endpoint holds the DMC's meter model (ConfigError if not)."""
        adapter = cls.from_options(dmc, options)
        try:
            models = {d.device_model for d in adapter.devices()}
        except DeviceError as exc:
            adapter.close()
            raise ConfigError(str(exc), "--device-url", "start the endpoint, or check its URL and token") from None
        if dmc.meter.id not in models:
            adapter.close()
            raise ConfigError(
                f"the endpoint {adapter.url} holds {', '.join(sorted(models)) or 'no device'}, not {dmc.meter.id}",
                "--dmc",
                "run the endpoint for this DMC or choose the DMC it serves",
            )
        return adapter

    @classmethod
    def from_options(cls, dmc: DMC, options: Mapping[str, str]) -> RemoteAdapter:
        """The adapter the options describe, checked but not yet connected (ConfigError for a bad option)."""
        unknown = sorted(set(options) - set(OPTIONS))
        if unknown or "url" not in options:
            raise ConfigError(
                "the remote adapter needs --device-url URL"
                + (f" and has no option {', '.join(unknown)}" if unknown else ""),
                "--adapter remote",
                "options: url=URL, token=TOKEN (or S1SR_DEVICE_TOKEN), timeout_s=SECONDS",
            )
        url = check_url(options["url"])
        token = options.get("token", os.environ.get(TOKEN_VARIABLE) or None)
        if token is not None:
            try:
                wire.check_token(token)
            except wire.WireError as exc:
                raise ConfigError(str(exc), f"--adapter-option token / {TOKEN_VARIABLE}") from None
        timeout_s = DEFAULT_TIMEOUT_S
        if "timeout_s" in options:
            try:
                timeout_s = wire.check_timeout(_number(options["timeout_s"]))
            except wire.WireError as exc:
                raise ConfigError(str(exc), "--adapter-option timeout_s", "give seconds, e.g. 30") from None
        return cls(dmc, url, token=token, timeout_s=timeout_s)

    def reset(self) -> None:
        """POST /v1/reset."""
        self._read("POST", "reset", wire.read_reset_answer, self._call("POST", "reset", {}, self.timeout_s))

    def execute(self, command: DeviceCommand, timeout_s: float = DEFAULT_TIMEOUT_S) -> DeviceReply:
        """POST /v1/execute."""
        try:
            body = wire.execute_call(command, wire.check_timeout(timeout_s))
        except wire.WireError as exc:
            raise DeviceFault(f"{command.name} cannot be sent to {self.url}: {exc}") from None
        answer = self._call("POST", "execute", body, timeout_s)
        return self._read("POST", "execute", wire.read_execute_answer, answer)

    def snapshot(self) -> dict[str, Any]:
        """GET /v1/snapshot."""
        return self._read(
            "GET", "snapshot", wire.read_snapshot_answer, self._call("GET", "snapshot", None, self.timeout_s)
        )

    def devices(self) -> list[DeviceInfo]:
        """GET /v1/devices."""
        return self._read(
            "GET", "devices", wire.read_devices_answer, self._call("GET", "devices", None, self.timeout_s)
        )

    def close(self) -> None:
        """Close the connections to the endpoint."""
        self._client.close()

    # --- one call ---------------------------------------------------------------------

    def _call(self, method: str, name: str, body: dict[str, Any] | None, timeout_s: float) -> Any:
        """One call within ``timeout_s`` plus the transport margin: the answer's JSON, or a DeviceError."""
        call = f"{method} {wire.PATHS[name]}"
        deadline_s = timeout_s + TRANSPORT_MARGIN_S
        try:
            content = wire.encode(body) if body is not None else None
        except (TypeError, ValueError) as exc:
            raise DeviceFault(f"{call} to {self.url} cannot be sent as JSON: {wire.cut(str(exc))}") from None
        headers = {"Content-Type": "application/json"} if content is not None else {}
        url = self._base.join(wire.PATHS[name].lstrip("/"))
        started = time.monotonic()
        try:
            with self._client.stream(
                method, url, content=content, headers=headers, timeout=httpx.Timeout(deadline_s)
            ) as answer:
                status = answer.status_code
                if 300 <= status < 400:
                    location = wire.cut(answer.headers.get("location", "nowhere"), 100)
                    raise EndpointDown(
                        f"device endpoint {self.url} answered {call} with a redirect (HTTP {status} to {location}): "
                        "redirects are refused; give the endpoint's own URL"
                    )
                said = f"device endpoint {self.url} answered {call}"
                data = read_answer(answer, wire.MAX_ANSWER_BYTES, started + deadline_s, said, EndpointDown)
        except httpx.TimeoutException:
            raise EndpointTimeout(f"no answer from {self.url} to {call} within {deadline_s:g} s") from None
        except httpx.HTTPError as exc:
            raise EndpointDown(f"cannot reach the device endpoint {self.url} ({call}): {wire.cut(str(exc))}") from None
        if status != 200:
            self._refused(call, status, data)
        try:
            return wire.parse_json(data, "the answer")
        except wire.WireError as exc:
            raise EndpointDown(f"device endpoint {self.url} answered {call} out of protocol v1: {exc}") from None

    def _refused(self, call: str, status: int, data: bytes) -> None:
        """Raise the DeviceError an error answer stands for."""
        try:
            error = wire.read_error_answer(wire.parse_json(data, "the answer"))
        except wire.WireError:
            error = None
        kind, message = error or ("", f"HTTP {status}")
        if status == 504 or kind == "timeout":
            raise EndpointTimeout(message)
        hint = f"; give its token with {TOKEN_VARIABLE} or --adapter-option token=..." if status == 401 else ""
        # A proxy's 502 without the protocol's error body says the rig behind it is gone, not its device.
        refused = DeviceFault if status in DEVICE_STATUSES and error is not None else EndpointDown
        raise refused(f"device endpoint {self.url} answered {call} with HTTP {status}: {message}{hint}")

    def _read(self, method: str, name: str, reader: Callable[[Any], T], answer: Any) -> T:
        """``reader(answer)``, a protocol break being an EndpointDown naming the endpoint and the call."""
        try:
            return reader(answer)
        except wire.WireError as exc:
            raise EndpointDown(
                f"device endpoint {self.url} answered {method} {wire.PATHS[name]} out of protocol v1: {exc}"
            ) from None


def check_url(url: str) -> str:
    """An http(s) URL with a host and no credentials, query or fragment; ConfigError if not."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ConfigError(f"'{wire.cut(url, 80)}' is not a URL ({exc})", "--device-url") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigError(f"'{wire.cut(url, 80)}' is not an http(s) URL", "--device-url")
    if parsed.userinfo or parsed.query or parsed.fragment:
        raise ConfigError(
            f"'{wire.cut(url, 80)}' carries credentials, a query or a fragment",
            "--device-url",
            "give the endpoint's base URL; pass a token with S1SR_DEVICE_TOKEN",
        )
    return url


def endpoint_key(url: str) -> str:
    """The endpoint ``url`` names, written one way: two URLs with the same key reach the same rig.

    Scheme and host in lower case, the port always given, the path without a trailing ``/`` or
    the protocol's ``/v1`` (which name the same endpoint, as :class:`RemoteAdapter` joins them).
    """
    parsed = httpx.URL(url)
    port = parsed.port or {"http": 80, "https": 443}.get(parsed.scheme, 0)
    path = parsed.path.rstrip("/").removesuffix("/v1").rstrip("/")
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    return f"{parsed.scheme.lower()}://{host.lower()}:{port}{path}"


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise wire.WireError("timeout_s", f"{wire.cut(repr(text), 40)} is not a number of seconds") from None
