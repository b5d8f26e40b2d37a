"""Serving a Starlette app with every input bounded: the harness's HTTP endpoints share this.

uvicorn serves the app on a socket of its own (:func:`listen`, :class:`HttpServer`); clients
are served concurrently, so a slow or idle connection never holds up another. What a call
may take is bounded (:class:`HttpLimits`): the request head in bytes and in time (uvicorn's
keep-alive timer stops at a request's first byte; this deadline runs until the head is in),
the body in bytes and time (:func:`read_body`), connections in number (more: 503).

Who a server is, :class:`Identity`, is a parameter: its ``Server`` header, the first word of
its log lines, and how it words a refusal (JSON for the device endpoint, a plain line for
DUIS). Even a request too malformed to reach the app is refused in those words and logged.

:class:`Guard`, in front of the app, refuses what a browser page could send: another origin
(``Origin``, ``Sec-Fetch-Site``) and, on loopback, a host name other than a loopback one
(a DNS-rebinding page); with a token, a caller without it. It leaves one access-log line per call.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Literal, Protocol, TypeVar

import h11
import uvicorn
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from s1sr.bounded_http.lines import access_line, one_line

T = TypeVar("T")
#: Where log lines go (one line each, no newline).
AccessLog = Callable[[str], None]
#: What a refusal is, for a server whose answers say so (the device protocol's error kinds).
RefusalKind = Literal["bad-request", "unauthorized", "forbidden", "timeout", "fault"]
#: Words the access-log line of one call: (client, "METHOD /path", status, seconds, the call's facts).
LineOf = Callable[[tuple[str, int] | None, str, int, float, dict[str, str]], str]
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
#: Seconds a refused connection stays half-closed, dropping what the client still sends, before it ends.
LINGER_S = 2.0
#: Where a call's facts for its log line are kept in its ASGI scope (see :func:`call_facts`).
_FACTS = "s1sr.facts"
_CLOSE = {"Connection": "close"}


@dataclass(frozen=True)
class HttpLimits:
    """What one call may take, in bytes and seconds, and how many connections at once."""

    #: The request body.
    max_call_bytes: int = 16 * 1024 * 1024
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


class Refused(Exception):
    """A call refused before it reached the work it asks for: an HTTP status, why, and what kind of refusal."""

    def __init__(self, status: int, message: str, kind: RefusalKind = "bad-request") -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind


class Refuse(Protocol):
    """Words a refusal as an answer: status, one-line reason, extra headers, kind."""

    def __call__(
        self, status: int, message: str, headers: Mapping[str, str] | None = None, kind: RefusalKind = "bad-request", /
    ) -> Response:
        """The answer refusing a call."""
        ...


@dataclass(frozen=True)
class Identity:
    """Who a server is to its callers and in its log."""

    #: The first word of its log lines, its ``Server`` header (with ``version``), the realm of its token.
    name: str
    version: str
    #: Words every refusal, from the app's to that of a request too malformed to reach it.
    refuse: Refuse
    #: How a call's log line is worded; by default :func:`access_line` with the call's ``note``.
    line: LineOf | None = None

    @property
    def server(self) -> str:
        """The ``Server`` header: ``name/version``."""
        return f"{self.name}/{self.version}"

    def log_line(
        self, client: tuple[str, int] | None, request: str, status: int, seconds: float, facts: dict[str, str]
    ) -> str:
        """The access-log line of one call."""
        if self.line is not None:
            return self.line(client, request, status, seconds, facts)
        return access_line(self.name, client, request, status, seconds, facts.get("note", ""))


def call_facts(scope: Scope) -> dict[str, str]:
    """What the log line of the call in ``scope`` tells (``note``: why it was refused or failed), filled as it runs."""
    facts: dict[str, str] = scope.setdefault(_FACTS, {})
    return facts


def in_daemon_thread(call: Callable[[], T], name: str) -> asyncio.Future[T]:
    """Run ``call`` in a daemon thread (work that hangs must not keep the process alive at exit)."""
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

    threading.Thread(target=run, name=name, daemon=True).start()
    return future


async def read_body(request: Request, limits: HttpLimits, media_type: str, posted_as: str) -> bytes:
    """The request's body, declared as ``media_type``, within the size and time limits; :class:`Refused` if not.

    ``posted_as`` starts the refusal of another media type: "{posted_as} Content-Type: {media_type}, not ...".
    """
    declared_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if declared_type != media_type:
        raise Refused(415, f"{posted_as} Content-Type: {media_type}, not {declared_type or 'none'!r}")
    declared = request.headers.get("content-length", "0").strip()  # h11 has checked it is digits
    if not declared.isdecimal():
        raise Refused(400, f"Content-Length {one_line(declared, 40)!r} is not a number of bytes")
    if int(declared) > limits.max_call_bytes:
        raise Refused(413, f"Content-Length {declared} is over the limit of {limits.max_call_bytes} bytes")
    data = bytearray()
    try:
        async with asyncio.timeout(limits.body_timeout_s):
            async for chunk in request.stream():
                data += chunk
                if len(data) > limits.max_call_bytes:
                    raise Refused(413, f"the body is over the limit of {limits.max_call_bytes} bytes")
    except TimeoutError:
        raise Refused(408, f"the body did not arrive within {limits.body_timeout_s:g} s") from None
    except ClientDisconnect:
        raise Refused(400, "the client went away before the end of the body") from None
    return bytes(data)


# --- who may call, and the access log -------------------------------------------------


class Guard:
    """Who may call, and one access-log line per call, in front of an app (pure ASGI, so it sees every call)."""

    def __init__(
        self,
        app: ASGIApp,
        identity: Identity,
        log: AccessLog,
        *,
        hosts: frozenset[str] | None = None,
        token: str | None = None,
        open_paths: Collection[str] = (),
    ) -> None:
        """``hosts``: the Host names answered (None: any); ``token``: required of every call but to ``open_paths``."""
        self.app = app
        self.identity = identity
        self.log = log
        self.hosts = hosts
        self.token = token.encode("ascii") if token is not None else None
        self.open_paths = frozenset(open_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check who calls, pass the call on, log it; never let an exception reach the server."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = 0
        facts = call_facts(scope)
        refuse = self.identity.refuse

        async def logged(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            refused = self._refusal(scope)
            if refused is not None:
                facts["note"] = str(refused)
                headers = dict(_CLOSE)  # its body, if any, is not read
                if refused.status == 401:
                    headers["WWW-Authenticate"] = f'Bearer realm="{self.identity.name}"'
                await refuse(refused.status, str(refused), headers, refused.kind)(scope, receive, logged)
            else:
                await self.app(scope, receive, logged)
        except asyncio.CancelledError:  # the server stops: the call ends with an answer, not a traceback
            facts["note"] = "the endpoint stopped before the call ended"
            if status == 0:
                status = 503
                await refuse(503, facts["note"], _CLOSE, "fault")(scope, receive, send)
        except Exception as exc:  # Starlette has answered 500 if it could; the log says why, in one line
            facts["note"] = f"{type(exc).__name__}: {exc}"
            if status == 0:
                status = 500
                await refuse(500, "the endpoint failed", None, "fault")(scope, receive, send)
        finally:
            request = f"{scope['method']} {scope['path']}"
            self.log(self.identity.log_line(scope.get("client"), request, status, time.monotonic() - started, facts))

    def _refusal(self, scope: Scope) -> Refused | None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        host = headers.get("host", "")
        if self.hosts is not None and _host_name(host) not in self.hosts:
            return Refused(
                403, f"Host {one_line(host, 80)!r} is not a loopback name: call this endpoint as 127.0.0.1", "forbidden"
            )
        origin = headers.get("origin")
        if origin is not None and origin.lower() != f"{scope['scheme']}://{host}".lower():
            return Refused(403, f"calls from a web page ({one_line(origin, 80)}) are refused", "forbidden")
        if headers.get("sec-fetch-site", "none") not in ("none", "same-origin"):
            return Refused(403, "calls from a web page of another site are refused", "forbidden")
        if self.token is not None and scope["path"] not in self.open_paths:
            scheme, _, given = headers.get("authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode("latin-1"), self.token):
                return Refused(401, "this endpoint needs its token: Authorization: Bearer TOKEN", "unauthorized")
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


def loopback_hosts(host: str) -> frozenset[str] | None:
    """The Host names a server listening on ``host`` answers: loopback ones if it is loopback, else any (None)."""
    return LOOPBACK_NAMES | {host.lower().strip("[]")} if is_loopback(host) else None


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


def _guarded_protocol(limits: HttpLimits, identity: Identity, log: AccessLog) -> type[asyncio.Protocol]:
    """uvicorn's h11 protocol with a deadline on every request head and ``identity``'s words for a malformed one."""

    class Protocol(H11Protocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._conn = self.conn = _Connection(h11.SERVER, limits.max_head_bytes)
            self._head_timer: asyncio.TimerHandle | None = None
            self._head_started = 0.0
            self._draining = False

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)  # type: ignore[arg-type]
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._draining:
                return  # answered and half-closed: what the client still sends is read and dropped
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:
                self._disarm()  # the head is in: the app bounds the body

        def eof_received(self) -> None:
            if self._draining:
                self.transport.close()
                return
            super().eof_received()

        def _linger_close(self) -> None:
            """Close after an answer the client may still be sending into (a lingering close).

            Closing at once while the client still sends makes the kernel answer with a reset,
            which can destroy our answer before the client reads it; so the answer is followed
            by a half-close, what still arrives is dropped, and the connection ends when the
            client closes its side or after :data:`LINGER_S`.
            """
            self._draining = True
            if self.transport.can_write_eof():
                self.transport.write_eof()
                self.loop.call_later(LINGER_S, self.transport.close)
            else:
                self.transport.close()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if self.transport.is_closing():
                return
            if self.conn.their_state is h11.SEND_BODY:
                self._linger_close()  # answered before the body ended (a slow or refused body): nothing more to read
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
            answer = identity.refuse(status, message, _CLOSE)
            head = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}"]
            head += [f"{name.decode('latin-1')}: {value.decode('latin-1')}" for name, value in answer.raw_headers]
            self.transport.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + bytes(answer.body))
            self._linger_close()
            seconds = self.loop.time() - self._head_started
            log(identity.log_line(self.client, "- -", status, seconds, {"note": message}))

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


class HttpServer:
    """An app served on a listening socket: :meth:`serve_forever`, or :meth:`start` and :meth:`stop`."""

    def __init__(
        self, app: ASGIApp, sock: socket.socket, limits: HttpLimits, identity: Identity, log: AccessLog
    ) -> None:
        self._socket = sock
        self._name = identity.name
        logger = logging.getLogger("uvicorn.error")
        if not any(isinstance(f, _QuietInvalidRequest) for f in logger.filters):
            logger.addFilter(_QuietInvalidRequest())
        config = uvicorn.Config(
            app,
            http=_guarded_protocol(limits, identity, log),
            loop="asyncio",
            lifespan="off",
            access_log=False,
            log_config=None,
            proxy_headers=False,
            server_header=False,
            headers=[("server", identity.server)],
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
        """The server's base URL."""
        host = self._socket.getsockname()[0]
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    def serve_forever(self) -> None:
        """Serve until SIGINT or SIGTERM (uvicorn finishes the calls in progress, then re-raises the signal)."""
        self._server.run(sockets=[self._socket])

    def start(self) -> HttpServer:
        """Serve in a background thread (for tests and embedding); returns once listening."""
        self._thread = threading.Thread(target=self.serve_forever, name=f"{self._name}-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not self._server.started:
            raise RuntimeError(f"{self._name} did not start")
        return self

    def stop(self) -> None:
        """Stop a server started with :meth:`start`."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> HttpServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (0 picks a free port); OSError when it cannot."""
    family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    # Protocol IPPROTO_TCP, not 0 as socket.create_server makes it: asyncio sets TCP_NODELAY only on
    # sockets that say they are TCP, and without it every answer on a reused connection waits ~40 ms
    # for the peer's delayed ACK (Nagle).
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        if os.name == "posix":
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            listener.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        listener.bind(address[:2])
        listener.listen(128)
    except BaseException:
        listener.close()
        raise
    return listener


def serve(
    app: ASGIApp,
    host: str,
    port: int,
    limits: HttpLimits,
    identity: Identity,
    log: AccessLog,
    *,
    token: str | None = None,
    open_paths: Collection[str] = (),
) -> HttpServer:
    """``app`` behind a :class:`Guard` on ``host``:``port`` (0: any free port); OSError when it cannot listen.

    Bound to loopback, the server answers only calls naming a loopback host (a DNS-rebinding
    page cannot); with ``token``, only calls that send it, but to ``open_paths``.
    """
    guarded = Guard(app, identity, log, hosts=loopback_hosts(host), token=token, open_paths=open_paths)
    return HttpServer(guarded, listen(host, port), limits, identity, log)
