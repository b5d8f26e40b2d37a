"""``s1sr serve-device``: a device endpoint, wire protocol v1 (:mod:`s1sr.devices.wire`), that a lab can expose.

A Starlette app served by :mod:`s1sr.bounded_http.server`: clients are served concurrently,
the request head and body are bounded in bytes and time, and every call leaves one
access-log line on stderr. Here, calls to the adapter are serialised (one estate is one set
of devices) and run in a worker thread under a deadline, so the event loop stays free;
every field is bounded by :mod:`s1sr.devices.wire`; every refusal is a JSON answer naming
the problem.

Who may call: with a token, only clients sending ``Authorization: Bearer TOKEN``. Always,
no browser page from another origin (``Origin``, ``Sec-Fetch-Site``) and, when bound to
loopback, no host name other than a loopback one (a DNS-rebinding page).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from s1sr.bounded_http.lines import access_line, to_stderr
from s1sr.bounded_http.server import (
    AccessLog,
    HttpLimits,
    HttpServer,
    Identity,
    RefusalKind,
    Refused,
    call_facts,
    in_daemon_thread,
    read_body,
    serve,
)
from s1sr.bounded_http.server import is_loopback as is_loopback  # where the command and tests find it
from s1sr.devices import wire
from s1sr.devices.adapter import DEFAULT_TIMEOUT_S, DeviceAdapter, DeviceError, DeviceTimeout

T = TypeVar("T")
#: Seconds an adapter has, beyond a command's timeout, to report that timeout itself.
ADAPTER_GRACE_S = 2.0
OPENAPI_PATH = "/openapi.json"
#: The device endpoint's server (the shared bounded server; the name stays for those who import it).
DeviceServer = HttpServer


@dataclass(frozen=True)
class Limits(HttpLimits):
    """What one call may take: the HTTP bounds, and the deadline of the calls with no timeout of their own."""

    max_call_bytes: int = wire.MAX_CALL_BYTES
    #: Deadline of reset, snapshot and devices (execute has its own timeout_s).
    call_timeout_s: float = DEFAULT_TIMEOUT_S


def _answer(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
    return Response(wire.encode(payload), status, headers, media_type="application/json")


def _error(
    status: int, message: str, headers: Mapping[str, str] | None = None, kind: RefusalKind = "bad-request"
) -> Response:
    return _answer(status, wire.error_answer(kind, message), headers)


def _line(client: tuple[str, int] | None, request: str, status: int, seconds: float, facts: dict[str, str]) -> str:
    """The access-log line, its note naming the device command a call carried and why it was refused."""
    note = ": ".join(facts[key] for key in ("call", "note") if facts.get(key))
    return access_line(DEVICE.name, client, request, status, seconds, note)


#: The endpoint to its callers: ``Server: s1sr-device/1``, JSON refusals, ``s1sr-device`` log lines.
DEVICE = Identity("s1sr-device", str(wire.VERSION), _error, _line)


# --- the devices, one call at a time ---------------------------------------------------


class _Devices:
    """The adapter behind a lock: calls run one at a time, each under a deadline."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()

    async def call(self, what: str, work: Callable[[], T], deadline_s: float) -> T:
        """``work()`` in a thread once the devices are free; DeviceTimeout past ``deadline_s`` (plus a grace)."""
        try:
            async with asyncio.timeout(deadline_s):
                await self._lock.acquire()
        except TimeoutError:
            raise DeviceTimeout(f"the devices stayed busy with another call for {deadline_s:g} s") from None
        future = in_daemon_thread(work, "s1sr-device-call")  # a hung adapter must not keep the process alive
        try:
            return await asyncio.wait_for(asyncio.shield(future), deadline_s + ADAPTER_GRACE_S)
        except TimeoutError:
            raise DeviceTimeout(
                f"the adapter did not return from {what} within {deadline_s + ADAPTER_GRACE_S:g} s"
            ) from None
        finally:
            # A call given up on still holds the devices until the adapter returns.
            future.add_done_callback(self._release)

    def _release(self, future: asyncio.Future[Any]) -> None:
        if not future.cancelled():
            future.exception()  # retrieved: an abandoned call's error is not logged as unhandled
        self._lock.release()


# --- the app --------------------------------------------------------------------------


async def _read_body(request: Request, limits: Limits) -> Any:
    """The call's JSON body, within the size and time limits; an empty body reads as ``{}``."""
    data = await read_body(request, limits, "application/json", "the body must be declared")
    return wire.parse_json(data, "the body") if data else {}


def make_app(adapter: DeviceAdapter, limits: Limits | None = None) -> Starlette:
    """The protocol's four calls and its OpenAPI document, over ``adapter`` (access control is the server's)."""
    limits = limits or Limits()
    devices = _Devices()

    async def handle(request: Request, work: Callable[[], Any]) -> Response:
        try:
            return _answer(200, await work())
        except Refused as exc:  # the body may be unread: the connection cannot carry another call
            return _note(request, _error(exc.status, str(exc), {"Connection": "close"}, exc.kind), str(exc))
        except wire.WireError as exc:
            return _note(request, _error(400, str(exc)), str(exc))
        except DeviceTimeout as exc:
            return _note(request, _error(504, str(exc), kind="timeout"), str(exc))
        except DeviceError as exc:
            return _note(request, _error(502, str(exc), kind="fault"), str(exc))
        except Exception as exc:  # an adapter bug: the client gets a fault, the log one line
            message = f"the adapter failed: {type(exc).__name__}: {exc}"
            return _note(request, _error(500, wire.cut(message), kind="fault"), message)

    async def list_devices(request: Request) -> Response:
        async def work() -> Any:
            return wire.devices_answer(await devices.call("devices", adapter.devices, limits.call_timeout_s))

        return await handle(request, work)

    async def snapshot(request: Request) -> Response:
        async def work() -> Any:
            return wire.snapshot_answer(await devices.call("snapshot", adapter.snapshot, limits.call_timeout_s))

        return await handle(request, work)

    async def reset(request: Request) -> Response:
        async def work() -> Any:
            wire.read_reset_call(await _read_body(request, limits))
            await devices.call("reset", adapter.reset, limits.call_timeout_s)
            return {}

        return await handle(request, work)

    async def execute(request: Request) -> Response:
        async def work() -> Any:
            call = wire.read_execute_call(await _read_body(request, limits))
            command = call.command
            call_facts(request.scope)["call"] = f"{command.name} to {command.device_id}"
            reply = await devices.call(command.name, lambda: adapter.execute(command, call.timeout_s), call.timeout_s)
            return wire.execute_answer(reply)

        return await handle(request, work)

    async def openapi(request: Request) -> Response:
        return _answer(200, wire.openapi_document())

    async def no_route(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 400
        message = f"no {request.method} {wire.cut(request.url.path, 80)} in protocol v1"
        headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else None
        return _note(request, _error(status, message, headers), message)

    routes = [
        Route(wire.PATHS["devices"], list_devices, methods=["GET"]),
        Route(wire.PATHS["snapshot"], snapshot, methods=["GET"]),
        Route(wire.PATHS["reset"], reset, methods=["POST"]),
        Route(wire.PATHS["execute"], execute, methods=["POST"]),
        Route(OPENAPI_PATH, openapi, methods=["GET"]),
    ]
    return Starlette(routes=routes, exception_handlers={404: no_route, 405: no_route})


def _note(request: Request, response: Response, note: str) -> Response:
    """Attach why a call was refused to its access-log line."""
    call_facts(request.scope)["note"] = note
    return response


def make_server(
    adapter: DeviceAdapter,
    host: str,
    port: int,
    *,
    token: str | None = None,
    limits: Limits | None = None,
    log: AccessLog = to_stderr,
) -> HttpServer:
    """A device endpoint exposing ``adapter`` on ``host``:``port``; OSError when it cannot listen.

    ``token`` (checked by :func:`wire.check_token`) is required of every call but the OpenAPI
    document's when given. Bound to loopback, the endpoint answers only calls naming a
    loopback host (a DNS-rebinding page cannot).
    """
    if token is not None:
        wire.check_token(token)
    limits = limits or Limits()
    return serve(make_app(adapter, limits), host, port, limits, DEVICE, log, token=token, open_paths={OPENAPI_PATH})
