"""``s1sr serve-device``: a device endpoint, wire protocol v1 (:mod:`s1sr.devices.wire`), that a lab can expose.

A Starlette app served by uvicorn. Clients are served concurrently: a slow or idle
connection never holds up another. Calls to the adapter are serialised (one estate is
one set of devices) and run in a worker thread, so the event loop stays free. Every
input is bounded: the request head in bytes and time, the body in bytes and time, every
field by :mod:`s1sr.devices.wire`. Every refusal is a JSON answer naming the problem,
and every call leaves one access-log line on stderr.

Who may call: with a token, only clients sending ``Authorization: Bearer TOKEN``. Always,
no browser page from another origin (``Origin``, ``Sec-Fetch-Site``) and, when bound to
loopback, no host name other than a loopback one (a DNS-rebinding page).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, TypeVar

import h11
import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from s1sr.devices import wire
from s1sr.devices.adapter import DEFAULT_TIMEOUT_S, DeviceAdapter, DeviceError, DeviceTimeout

T = TypeVar("T")
#: Where access-log lines go (one line each, no newline).
AccessLog = Callable[[str], None]
#: Seconds an adapter has, beyond a command's timeout, to report that timeout itself.
ADAPTER_GRACE_S = 2.0
OPENAPI_PATH = "/openapi.json"
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class Limits:
    """What one call may take: bytes and seconds, and how many connections at once."""

    max_call_bytes: int = wire.MAX_CALL_BYTES
    #: Request line and headers.
    max_head_bytes: int = 16 * 1024
    #: From the connection (or the previous answer) to the end of the request head.
    head_timeout_s: float = 10.0
    #: From the end of the head to the end of the body (16 MiB at 280 kB/s).
    body_timeout_s: float = 60.0
    #: An idle connection after an answer.
    keep_alive_s: int = 5
    #: Connections and calls in progress; more are answered 503.
    max_connections: int = 64
    #: Deadline of reset, snapshot and devices (execute has its own timeout_s).
    call_timeout_s: float = DEFAULT_TIMEOUT_S


class _Refusal(Exception):
    """A call refused before it reached the devices."""

    def __init__(self, status: int, message: str, kind: wire.ErrorKind = "bad-request") -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind


def _to_stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def access_line(client: tuple[str, int] | None, request: str, status: int, seconds: float, note: str = "") -> str:
    """One access-log line: when, who, the request, the status, how long, and why when it was not 200."""
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    who = f"{client[0]}:{client[1]}" if client else "-"
    line = f's1sr-device {when} {who} "{wire.cut(request, 160)}" {status} {seconds * 1000:.1f} ms'
    return f"{line} ({wire.cut(note, 200)})" if note else line


def _answer(status: int, payload: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(wire.encode(payload), status, headers, media_type="application/json")


def _error(status: int, kind: wire.ErrorKind, message: str, headers: dict[str, str] | None = None) -> Response:
    return _answer(status, wire.error_answer(kind, message), headers)


# --- the devices, one call at a time ---------------------------------------------------


def _in_thread(call: Callable[[], T]) -> asyncio.Future[T]:
    """Run ``call`` in a daemon thread (a hung adapter must not keep the process alive at exit)."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.cancelled():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def run() -> None:
        try:
            outcome: tuple[T | None, BaseException | None] = (call(), None)
        except BaseException as exc:  # handed to the event loop
            outcome = (None, exc)
        with contextlib.suppress(RuntimeError):  # the server stopped meanwhile: nobody waits for this answer
            loop.call_soon_threadsafe(settle, *outcome)

    threading.Thread(target=run, name="s1sr-device-call", daemon=True).start()
    return future


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
        future = _in_thread(work)
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
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise _Refusal(415, f"the body must be declared Content-Type: application/json, not {media_type or 'none'!r}")
    declared = request.headers.get("content-length", "0").strip()  # h11 has checked it is digits
    if not declared.isdecimal():
        raise _Refusal(400, f"Content-Length {wire.cut(declared, 40)!r} is not a number of bytes")
    if int(declared) > limits.max_call_bytes:
        raise _Refusal(413, f"Content-Length {declared} is over the limit of {limits.max_call_bytes} bytes")
    data = bytearray()
    try:
        async with asyncio.timeout(limits.body_timeout_s):
            async for chunk in request.stream():
                data += chunk
                if len(data) > limits.max_call_bytes:
                    raise _Refusal(413, f"the body is over the limit of {limits.max_call_bytes} bytes")
    except TimeoutError:
        raise _Refusal(408, f"the body did not arrive within {limits.body_timeout_s:g} s") from None
    except ClientDisconnect:
        raise _Refusal(400, "the client went away before the end of the body") from None
    return wire.parse_json(bytes(data), "the body") if data else {}


def make_app(adapter: DeviceAdapter, limits: Limits | None = None) -> Starlette:
    """The protocol's four calls and its OpenAPI document, over ``adapter`` (access control is :class:`Front`'s)."""
    limits = limits or Limits()
    devices = _Devices()

    async def handle(request: Request, work: Callable[[], Any]) -> Response:
        try:
            return _answer(200, await work())
        except _Refusal as exc:  # the body may be unread: the connection cannot carry another call
            return _note(request, _error(exc.status, exc.kind, str(exc), {"Connection": "close"}), str(exc))
        except wire.WireError as exc:
            return _note(request, _error(400, "bad-request", str(exc)), str(exc))
        except DeviceTimeout as exc:
            return _note(request, _error(504, "timeout", str(exc)), str(exc))
        except DeviceError as exc:
            return _note(request, _error(502, "fault", str(exc)), str(exc))
        except Exception as exc:  # an adapter bug: the client gets a fault, the log one line
            message = f"the adapter failed: {type(exc).__name__}: {exc}"
            return _note(request, _error(500, "fault", wire.cut(message)), message)

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
            request.scope["s1sr.call"] = f"{command.name} to {command.device_id}"
            reply = await devices.call(command.name, lambda: adapter.execute(command, call.timeout_s), call.timeout_s)
            return wire.execute_answer(reply)

        return await handle(request, work)

    async def openapi(request: Request) -> Response:
        return _answer(200, wire.openapi_document())

    async def no_route(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 400
        message = f"no {request.method} {wire.cut(request.url.path, 80)} in protocol v1"
        headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else None
        return _note(request, _error(status, "bad-request", message, headers), message)

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
    request.scope["s1sr.note"] = note
    return response


class Front:
    """Access control and the access log, in front of the app (pure ASGI, so it sees every call)."""

    def __init__(self, app: ASGIApp, token: str | None, hosts: frozenset[str] | None, log: AccessLog) -> None:
        self.app = app
        self.token = token.encode("ascii") if token is not None else None
        self.hosts = hosts
        self.log = log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check who calls, pass the call on, log it; never let an exception reach the server."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = 0

        async def logged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            refusal = self._refusal(scope)
            if refusal is not None:
                scope["s1sr.note"] = str(refusal)
                headers = {"Connection": "close"}  # its body, if any, is not read
                if refusal.status == 401:
                    headers["WWW-Authenticate"] = 'Bearer realm="s1sr-device"'
                await _error(refusal.status, refusal.kind, str(refusal), headers)(scope, receive, logged)
            else:
                await self.app(scope, receive, logged)
        except asyncio.CancelledError:  # the server stops: the call ends with an answer, not a traceback
            scope["s1sr.note"] = "the endpoint stopped before the call ended"
            if status == 0:
                status = 503
                await _error(503, "fault", scope["s1sr.note"], {"Connection": "close"})(scope, receive, send)
        except Exception as exc:  # Starlette has answered 500 if it could; the log says why, in one line
            scope["s1sr.note"] = f"{type(exc).__name__}: {exc}"
            if status == 0:
                status = 500
                await _error(500, "fault", "the endpoint failed")(scope, receive, send)
        finally:
            request = f"{scope['method']} {scope['path']}"
            note = ": ".join(str(scope[key]) for key in ("s1sr.call", "s1sr.note") if key in scope)
            self.log(access_line(scope.get("client"), request, status, time.monotonic() - started, note))

    def _refusal(self, scope: Scope) -> _Refusal | None:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if self.hosts is not None and _host_name(host) not in self.hosts:
            return _Refusal(
                403, f"Host {wire.cut(host, 80)!r} is not a loopback name: call this endpoint as 127.0.0.1", "forbidden"
            )
        origin = headers.get("origin")
        if origin is not None and origin.lower() != f"{scope['scheme']}://{host}".lower():
            return _Refusal(403, f"calls from a web page ({wire.cut(origin, 80)}) are refused", "forbidden")
        if headers.get("sec-fetch-site", "none") not in ("none", "same-origin"):
            return _Refusal(403, "calls from a web page of another site are refused", "forbidden")
        if self.token is not None and scope["path"] != OPENAPI_PATH:
            scheme, _, given = headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode("latin-1"), self.token):
                return _Refusal(401, "this endpoint needs its token: Authorization: Bearer TOKEN", "unauthorized")
        return None


def _host_name(host: str) -> str:
    """The name part of a Host header: ``[::1]:80`` -> ``::1``, ``localhost:80`` -> ``localhost``."""
    if host.startswith("["):
        return host[1 : host.find("]")].lower() if "]" in host else host.lower()
    return host.rpartition(":")[0].lower() if ":" in host else host.lower()


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address to listen on) is this machine only."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


# --- the HTTP/1.1 connection ---------------------------------------------------------


class _Connection(h11.Connection):
    """An h11 connection that keeps the reason of the last malformed request."""

    problem = ""
    status_hint = 400

    def next_event(self) -> Any:
        """The next event, noting why a malformed request was refused."""
        try:
            return super().next_event()
        except h11.RemoteProtocolError as exc:
            self.problem, self.status_hint = str(exc), exc.error_status_hint
            raise


def _protocol(limits: Limits, log: AccessLog) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol with a deadline on every request head and JSON for a malformed request."""

    class Protocol(H11Protocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._conn = self.conn = _Connection(h11.SERVER, limits.max_head_bytes)
            self._head_timer: asyncio.TimerHandle | None = None
            self._head_started = 0.0

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)  # type: ignore[arg-type]
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:
                self._disarm()  # the head is in: the app bounds the body

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if self.transport.is_closing():
                return
            if self.conn.their_state is h11.SEND_BODY:
                self.transport.close()  # answered before the body ended (a GET with a body): nothing more to read
            elif self.conn.their_state is h11.IDLE:
                self._arm()  # uvicorn's keep-alive timer stops at the first byte; this one does not

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def send_400_response(self, msg: str) -> None:
            self._refuse(self._conn.status_hint, f"malformed HTTP request: {self._conn.problem or msg}")

        def _arm(self) -> None:
            self._disarm()
            self._head_started = self.loop.time()
            self._head_timer = self.loop.call_later(limits.head_timeout_s, self._head_expired)

        def _disarm(self) -> None:
            if self._head_timer is not None:
                self._head_timer.cancel()
                self._head_timer = None

        def _head_expired(self) -> None:
            self._head_timer = None
            if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
                return
            if self.conn.trailing_data[0]:
                self._refuse(408, f"the request head did not arrive within {limits.head_timeout_s:g} s")
            else:
                self.transport.close()  # idle: closed quietly, as after keep-alive

        def _refuse(self, status: int, message: str) -> None:
            body = wire.encode(wire.error_answer("bad-request", message))
            head = (
                f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\ncontent-type: application/json\r\n"
                f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
            )
            self.transport.write(head.encode("ascii") + body)
            self.transport.close()
            log(access_line(self.client, "- -", status, self.loop.time() - self._head_started, message))

    return Protocol


class _QuietInvalidRequest(logging.Filter):
    """uvicorn warns of a malformed request; the access log already has its line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "Invalid HTTP request received."


# --- the server -----------------------------------------------------------------------


class _Server(uvicorn.Server):
    """uvicorn's server, letting the calls it cancels at shutdown write their answer and log line."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Shut down as uvicorn does, then give cancelled calls a second to end."""
        await super().shutdown(sockets)
        if self.server_state.tasks:
            await asyncio.wait(list(self.server_state.tasks), timeout=1)


class DeviceServer:
    """A device endpoint on a listening socket: :meth:`serve_forever`, or :meth:`start` and :meth:`stop`."""

    def __init__(self, app: ASGIApp, sock: socket.socket, limits: Limits, log: AccessLog) -> None:
        self._socket = sock
        logger = logging.getLogger("uvicorn.error")
        if not any(isinstance(f, _QuietInvalidRequest) for f in logger.filters):
            logger.addFilter(_QuietInvalidRequest())
        config = uvicorn.Config(
            app,
            http=_protocol(limits, log),
            loop="asyncio",
            lifespan="off",
            access_log=False,
            log_config=None,
            proxy_headers=False,
            server_header=False,
            headers=[("server", f"s1sr-device/{wire.VERSION}")],
            timeout_keep_alive=limits.keep_alive_s,
            timeout_graceful_shutdown=3,
            limit_concurrency=limits.max_connections,
            h11_max_incomplete_event_size=limits.max_head_bytes,
        )
        self._server = _Server(config)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        """The TCP port listened on."""
        port: int = self._socket.getsockname()[1]
        return port

    @property
    def url(self) -> str:
        """The endpoint's base URL."""
        host = self._socket.getsockname()[0]
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def serve_forever(self) -> None:
        """Serve until SIGINT or SIGTERM (uvicorn finishes the calls in progress, then re-raises the signal)."""
        self._server.run(sockets=[self._socket])

    def start(self) -> DeviceServer:
        """Serve in a background thread (for tests and embedding); returns once listening."""
        self._thread = threading.Thread(target=self.serve_forever, name="s1sr-device-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self._server.started:
            raise RuntimeError("the device endpoint did not start")
        return self

    def stop(self) -> None:
        """Stop a server started with :meth:`start`."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> DeviceServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (0 picks a free port); OSError when it cannot."""
    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    return socket.create_server(address[:2], family=family, backlog=128)


def make_server(
    adapter: DeviceAdapter,
    host: str,
    port: int,
    *,
    token: str | None = None,
    limits: Limits | None = None,
    log: AccessLog = _to_stderr,
) -> DeviceServer:
    """A device endpoint exposing ``adapter`` on ``host``:``port``; OSError when it cannot listen.

    ``token`` (checked by :func:`wire.check_token`) is required of every call when given. Bound to
    loopback, the endpoint answers only calls naming a loopback host (a DNS-rebinding page cannot).
    """
    if token is not None:
        wire.check_token(token)
    limits = limits or Limits()
    hosts = LOOPBACK_NAMES | {host.lower().strip("[]")} if is_loopback(host) else None
    app = Front(make_app(adapter, limits), token, hosts, log)
    return DeviceServer(app, listen(host, port), limits, log)
