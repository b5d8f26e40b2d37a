"""A device adapter that speaks JSON over HTTP to a device endpoint (a lab rig, or ``s1sr serve-device``).

Wire protocol, version 1 (all bodies JSON, UTF-8):

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
device_type, han}``.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from s1sr.catalogue import DMC
from s1sr.devices.adapter import DEFAULT_TIMEOUT_S, DeviceAdapter, DeviceFault, DeviceInfo, DeviceTimeout
from s1sr.devices.commands import DeviceCommand, DeviceReply
from s1sr.errors import ConfigError

#: Extra seconds allowed for the HTTP round trip on top of a command's own timeout.
TRANSPORT_MARGIN_S = 5.0


class RemoteAdapter(DeviceAdapter):
    """Devices behind a JSON-over-HTTP endpoint (option ``url``)."""

    name = "remote"

    def __init__(self, dmc: DMC, url: str) -> None:
        self.dmc = dmc
        self.url = url.rstrip("/")

    @classmethod
    def create(cls, dmc: DMC, options: Mapping[str, str]) -> RemoteAdapter:
        """Connect to ``url`` and check that the endpoint holds the DMC's meter model."""
        unknown = set(options) - {"url"}
        if unknown or "url" not in options:
            raise ConfigError("the remote adapter needs --device-url URL (and no other option)", "--adapter remote")
        if not options["url"].startswith(("http://", "https://")):
            raise ConfigError(f"'{options['url']}' is not an http(s) URL", "--device-url")
        adapter = cls(dmc, options["url"])
        models = {d.device_model for d in adapter.devices()}
        if dmc.meter.id not in models:
            raise ConfigError(
                f"the endpoint {adapter.url} holds {', '.join(sorted(models))}, not {dmc.meter.id}",
                "--dmc",
                "run the endpoint for this DMC or choose the DMC it serves",
            )
        return adapter

    def _call(self, method: str, path: str, body: dict[str, Any] | None, timeout_s: float) -> dict[str, Any]:
        data = json.dumps(body).encode("utf-8") if body is not None else None
        request = urllib.request.Request(
            f"{self.url}{path}", data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout_s) as answer:
                payload: dict[str, Any] = json.loads(answer.read().decode("utf-8"))
                return payload
        except urllib.error.HTTPError as exc:
            try:
                error = json.loads(exc.read().decode("utf-8")).get("error", {})
            except (ValueError, AttributeError):
                error = {}
            message = error.get("message", f"HTTP {exc.code}")
            if exc.code == 504 or error.get("kind") == "timeout":
                raise DeviceTimeout(message) from None
            raise DeviceFault(f"device endpoint {self.url}{path}: {message}") from None
        except TimeoutError:
            raise DeviceTimeout(f"no answer from {self.url}{path} within {timeout_s:g} s") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError | socket.timeout):
                raise DeviceTimeout(f"no answer from {self.url}{path} within {timeout_s:g} s") from None
            raise DeviceFault(f"cannot reach the device endpoint {self.url}: {exc.reason}") from None
        except (ConnectionError, ValueError) as exc:
            raise DeviceFault(f"device endpoint {self.url}{path} broke the protocol: {exc}") from None

    def reset(self) -> None:
        """POST /v1/reset."""
        self._call("POST", "/v1/reset", {}, DEFAULT_TIMEOUT_S)

    def execute(self, command: DeviceCommand, timeout_s: float = DEFAULT_TIMEOUT_S) -> DeviceReply:
        """POST /v1/execute."""
        body = {
            "command": {
                "name": command.name,
                "device_id": command.device_id,
                "fields": command.fields,
                "defaults": command.defaults,
            },
            "timeout_s": timeout_s,
        }
        answer = self._call("POST", "/v1/execute", body, timeout_s + TRANSPORT_MARGIN_S)
        reply = answer.get("reply")
        if not isinstance(reply, dict) or not isinstance(reply.get("accepted"), bool):
            raise DeviceFault(f"device endpoint {self.url} answered /v1/execute without a reply")
        return DeviceReply(reply["accepted"], dict(reply.get("values") or {}), str(reply.get("reason", "")))

    def snapshot(self) -> dict[str, Any]:
        """GET /v1/snapshot."""
        snapshot: dict[str, Any] = self._call("GET", "/v1/snapshot", None, DEFAULT_TIMEOUT_S).get("snapshot", {})
        return snapshot

    def devices(self) -> list[DeviceInfo]:
        """GET /v1/devices."""
        try:
            listed = self._call("GET", "/v1/devices", None, DEFAULT_TIMEOUT_S).get("devices", [])
            return [DeviceInfo(d["device_id"], d["device_model"], d["device_type"], d["han"]) for d in listed]
        except (KeyError, TypeError):
            raise DeviceFault(f"device endpoint {self.url} answered /v1/devices with an unexpected shape") from None
