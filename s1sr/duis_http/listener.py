"""The User's response endpoint: where DCC POSTs the asynchronous DUIS responses to acknowledged requests.

``POST PATH`` with an ``application/xml`` body, answered 204 when taken and 400 (one line)
when not. What "taken" means is the owner's: a callback gets each body and returns None,
or the reason it refuses it. Bodies are bounded in bytes and time like every endpoint of
the harness (the server machinery is :mod:`s1sr.bounded_http.server`'s), and each POST
leaves one log line.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from s1sr import __version__
from s1sr.bounded_http.lines import access_line, one_line
from s1sr.bounded_http.server import HttpLimits, HttpServer, Identity, RefusalKind, Refused, listen, read_body
from s1sr.duis_http.services import MAX_MESSAGE_BYTES, XML_MEDIA_TYPE
from s1sr.errors import ConfigError

#: Takes one response body; returns None when it is taken, or why it is refused.
Accept = Callable[[bytes], "str | None"]
LOG = logging.getLogger("s1sr.duis_http.listener")
DEFAULT_PATH = "/duis/response"


def _log(line: str) -> None:
    LOG.info(line)


def _plain(
    status: int, reason: str, headers: Mapping[str, str] | None = None, kind: RefusalKind = "bad-request"
) -> Response:
    # One plain line, whatever its kind: a sender needs only to know it was refused, and why.
    return PlainTextResponse(reason + "\n", status, headers)


#: The listener to its callers: ``Server: s1sr-duis-listener/VERSION``, refusals in one plain line.
LISTENER = Identity("s1sr-duis-listener", __version__, _plain)


def check_path(path: str) -> str:
    """A path for the listener: starts with '/', printable ASCII, no query; ConfigError if not."""
    if (
        not path.startswith("/")
        or "?" in path
        or "#" in path
        or not path.isascii()
        or not path.isprintable()
        or " " in path
    ):
        raise ConfigError(f"'{one_line(path, 80)}' is not a URL path", "response path", "e.g. /duis/response")
    return path


def parse_listen(text: str, option: str = "--response-listen") -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) as a host and a port 0..65535; ConfigError if not."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdecimal() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"'{one_line(text, 80)}' is not HOST:PORT", option, "e.g. 127.0.0.1:8090")
    return host, int(port)


class ResponseListener:
    """An HTTP endpoint taking asynchronous DUIS responses, for as long as its owner runs it."""

    def __init__(
        self,
        accept: Accept,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = DEFAULT_PATH,
        *,
        limits: HttpLimits | None = None,
        log: Callable[[str], None] = _log,
    ) -> None:
        self.path = check_path(path)
        self.limits = limits or HttpLimits(max_call_bytes=MAX_MESSAGE_BYTES, body_timeout_s=30.0)
        self.log = log
        self.received = 0
        #: Takes each body (its owner may replace it, e.g. a client adopting a listener already running).
        self.accept = accept
        self.running = False
        app = Starlette(
            routes=[Route(self.path, self._post, methods=["POST"])],
            exception_handlers={404: self._no_route, 405: self._no_route},
        )
        try:
            self._server = HttpServer(app, listen(host, port), self.limits, LISTENER, log)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise ConfigError(
                f"cannot listen for responses ({reason})", f"{host}:{port}", "choose another port"
            ) from None

    @property
    def url(self) -> str:
        """The full URL a DUIS endpoint is configured to POST responses to."""
        return self._server.url + self.path

    def start(self) -> ResponseListener:
        """Serve in a background thread (once); returns once listening."""
        if not self.running:
            self._server.start()
            self.running = True
        return self

    def stop(self) -> None:
        """Stop serving."""
        if self.running:
            self._server.stop()
            self.running = False

    def __enter__(self) -> ResponseListener:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def _post(self, request: Request) -> Response:
        started = time.monotonic()
        reason = await self._read_and_accept(request)
        status = 204 if reason is None else 400
        client = (request.client.host, request.client.port) if request.client else None
        seconds = time.monotonic() - started
        self.log(access_line(LISTENER.name, client, f"POST {self.path}", status, seconds, reason or ""))
        if reason is None:
            self.received += 1
            return Response(status_code=204)
        return _plain(400, reason, {"Connection": "close"})

    async def _read_and_accept(self, request: Request) -> str | None:
        try:
            data = await read_body(request, self.limits, XML_MEDIA_TYPE, "a DUIS response is posted as")
        except Refused as refused:  # answered 400 whatever the reason: the sender only needs to know it was refused
            return str(refused)
        try:
            return await asyncio.to_thread(self.accept, data)
        except Exception as exc:  # the owner's bug: the sender gets a 400, the log one line
            return f"the listener failed to take it: {type(exc).__name__}: {exc}"

    async def _no_route(self, request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 400
        reason = f"no {request.method} {one_line(request.url.path, 80)}: responses are POSTed to {self.path}"
        return _plain(status, reason)
