"""``s1sr serve-s1sp``: an S1SP and its Secure estate behind DCC Boxed's DUIS transport.

``POST /api/v1/serviceD | serviceS | serviceT`` with a signed DUIS request as
``application/xml``; the answer is a signed DUIS response (what is decided, and in what
order, is :mod:`s1sr.duis_http.endpoint`'s). A device request is acknowledged ``I99`` and its
response delivered later to the User's response endpoint (:mod:`s1sr.duis_http.delivery`);
a non-device request is answered ``I0`` at once.

A Starlette app served by :mod:`s1sr.bounded_http.server` (bounds on connections, request
heads and bodies; Host and Origin checks; one access-log line per exchange), every refusal
one plain line, also in the ``S1SR-Refusal`` header. Here requests run through the S1SP one
at a time in a worker thread under a deadline, at most ``max_pending`` requests are admitted
and not yet answered (more: 503), and every delivery attempt leaves one delivery line.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from s1sr import __version__
from s1sr.bounded_http import server as bounded
from s1sr.bounded_http.lines import access_line, log_time, one_line, to_stderr
from s1sr.duis_http.delivery import Deliverer, DeliveryPolicy
from s1sr.duis_http.endpoint import Admitted, Answer, DuisEndpoint, Outcome, Refusal
from s1sr.duis_http.services import MAX_MESSAGE_BYTES, REFUSAL_HEADER, XML_MEDIA_TYPE, Service

_CLOSE = {"Connection": "close"}


@dataclass(frozen=True)
class ServerLimits:
    """What the endpoint holds to: the HTTP bounds, requests in hand, and the time one request may take."""

    http: bounded.HttpLimits = field(default_factory=lambda: bounded.HttpLimits(max_call_bytes=MAX_MESSAGE_BYTES))
    #: Requests admitted and not yet answered or delivered; more are answered 503.
    max_pending: int = 256
    #: From the start of a request's execution by the S1SP to its response.
    execution_timeout_s: float = 120.0


def exchange_line(
    client: tuple[str, int] | None, request: str, status: int, seconds: float, exchange: dict[str, str]
) -> str:
    """One access-log line: when, who, the request, the HTTP status, the DUIS code, RequestID, SRV, time, why."""
    fields = [exchange.get("code", "-"), exchange.get("request_id", "-")]
    if "srv" in exchange:
        fields.append(f"SRV {exchange['srv']}")
    return access_line(DUIS.name, client, request, status, seconds, exchange.get("note", ""), fields)


def _plain(
    status: int, reason: str, headers: Mapping[str, str] | None = None, kind: bounded.RefusalKind = "bad-request"
) -> Response:
    """A refusal in one line, also in the S1SR-Refusal header (a DUIS response has no place for it)."""
    return PlainTextResponse(reason + "\n", status, {REFUSAL_HEADER: one_line(reason), **(headers or {})})


#: The endpoint to its callers: ``Server: s1sr-duis/VERSION``, refusals in one plain line, ``s1sr-duis`` log lines.
DUIS = bounded.Identity("s1sr-duis", __version__, _plain, exchange_line)


#: The longest a response waits for its request's acknowledgement to be sent before it is delivered.
ACK_WAIT_S = 10.0


@dataclass
class _Job:
    admitted: Admitted
    #: A synchronous request waits on this; an acknowledged one is delivered instead.
    reply: asyncio.Future[Outcome] | None = None
    #: Set once the acknowledgement is sent, so the response never overtakes it.
    acknowledged: asyncio.Event = field(default_factory=asyncio.Event)

    async def mark_acknowledged(self) -> None:
        """Called once the acknowledgement has been sent."""
        self.acknowledged.set()


class _Worker:
    """Executes admitted requests in order, one at a time, and delivers the acknowledged ones' responses."""

    def __init__(
        self, endpoint: DuisEndpoint, deliverer: Deliverer, limits: ServerLimits, log: bounded.AccessLog
    ) -> None:
        self.endpoint = endpoint
        self.deliverer = deliverer
        self.limits = limits
        self.log = log
        self.pending = 0
        self._queue: asyncio.Queue[_Job] | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def reserve(self) -> bool:
        """Take a place for one more request; False when ``max_pending`` are already in hand."""
        if self.pending >= self.limits.max_pending:
            return False
        self.pending += 1
        return True

    def submit(self, job: _Job) -> None:
        """Queue a request that holds a reserved place (the worker starts with the first)."""
        if self._queue is None:
            self._queue = asyncio.Queue()
            self._spawn(self._run())
        self._queue.put_nowait(job)

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)  # held until done, so it is not collected mid-flight
        task.add_done_callback(self._tasks.discard)

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            job = await self._queue.get()
            delivering = False
            try:
                outcome = await self._execute(job.admitted)
                if job.reply is not None:
                    if not job.reply.done():
                        job.reply.set_result(outcome)
                else:
                    delivering = True
                    self._spawn(self._deliver(job, outcome))
            except Exception as exc:  # the S1SP failed: a synchronous caller gets a 500; no response to deliver
                if job.reply is not None and not job.reply.done():
                    job.reply.set_exception(exc)
                elif job.reply is None:
                    rid = job.admitted.header.request_id
                    why = one_line(f"{type(exc).__name__}: {exc}", 300)
                    self.log(f"{DUIS.name} {log_time()} execute {rid}: the S1SP failed ({why}); nothing delivered")
            finally:
                if not delivering:
                    self.pending -= 1

    async def _execute(self, admitted: Admitted) -> Outcome:
        # In a daemon thread: an S1SP that hangs must not keep the process alive at exit.
        future = bounded.in_daemon_thread(lambda: self.endpoint.execute(admitted), "s1sr-duis-s1sp")
        deadline = self.limits.execution_timeout_s
        try:
            return await asyncio.wait_for(asyncio.shield(future), deadline)
        except TimeoutError:
            # The estate stays busy until the S1SP returns: later requests wait for it in their thread.
            future.add_done_callback(lambda done: done.cancelled() or done.exception())
            return self.endpoint.execution_failed(admitted, f"the S1SP did not answer within {deadline:g} s")

    async def _deliver(self, job: _Job, outcome: Outcome) -> None:
        admitted = job.admitted
        try:
            with contextlib.suppress(TimeoutError):  # an acknowledgement that could not be sent holds nothing up
                async with asyncio.timeout(ACK_WAIT_S):
                    await job.acknowledged.wait()
            label = f"{outcome.code} {admitted.header.request_id}"
            if outcome.note:
                rid = admitted.header.request_id
                self.log(f"{DUIS.name} {log_time()} execute {rid}: {one_line(outcome.note, 300)}")
            await self.deliverer.deliver(outcome.xml, label)
        finally:
            self.pending -= 1


def _xml(answer: Answer | Outcome, status: int = 200, background: BackgroundTask | None = None) -> Response:
    reason = answer.reason if isinstance(answer, Answer) else ""
    headers = {REFUSAL_HEADER: one_line(reason)} if reason else None
    return Response(answer.xml, status, headers, media_type=XML_MEDIA_TYPE, background=background)


def make_app(
    endpoint: DuisEndpoint, delivery: DeliveryPolicy, limits: ServerLimits, log: bounded.AccessLog
) -> Starlette:
    """The three DUIS web services over ``endpoint`` (access checks and the log are the server's)."""
    worker = _Worker(endpoint, Deliverer(delivery, log), limits, log)

    async def post(request: Request, service: Service) -> Response:
        exchange = bounded.call_facts(request.scope)
        try:
            body = await bounded.read_body(request, limits.http, XML_MEDIA_TYPE, "a DUIS request is posted as")
        except bounded.Refused as refused:
            exchange["note"] = str(refused)
            return _plain(refused.status, str(refused), _CLOSE)  # the body may be unread
        admission = await asyncio.to_thread(endpoint.admit, body, service)
        if isinstance(admission, Refusal):
            exchange["note"] = admission.reason
            return _plain(admission.status, admission.reason)
        header = admission.header
        exchange.update(request_id=str(header.request_id), srv=header.srv)
        if isinstance(admission, Answer):
            exchange.update(code=admission.code, note=admission.reason)
            return _xml(admission)
        if not worker.reserve():
            exchange["note"] = f"{limits.max_pending} requests already in hand"
            return _plain(503, f"busy: {limits.max_pending} requests are already in hand; try again shortly")
        if not admission.synchronous:
            ack = await asyncio.to_thread(endpoint.acknowledge, header)
            exchange["code"] = ack.code
            job = _Job(admission)
            worker.submit(job)  # executed now; delivered once the acknowledgement has gone
            return _xml(ack, background=BackgroundTask(job.mark_acknowledged))
        reply: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        worker.submit(_Job(admission, reply))
        deadline = limits.execution_timeout_s + 30  # room to wait for the requests queued before it
        try:
            outcome = await asyncio.wait_for(asyncio.shield(reply), deadline)
        except TimeoutError:
            exchange["note"] = f"no answer from the S1SP within {deadline:g} s"
            return _plain(504, exchange["note"])
        except Exception as exc:
            exchange["note"] = f"the S1SP failed: {type(exc).__name__}: {exc}"
            return _plain(500, "the S1SP failed; see the endpoint's log")
        exchange.update(code=outcome.code, note=outcome.note)
        return _xml(outcome)

    async def no_route(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 400
        services = ", ".join(s.path for s in Service)
        reason = f"no {request.method} {one_line(request.url.path, 80)}: the DUIS services are POST {services}"
        bounded.call_facts(request.scope)["note"] = reason
        return _plain(status, reason)

    def route(service: Service) -> Route:
        async def handler(request: Request) -> Response:
            return await post(request, service)

        return Route(service.path, handler, methods=["POST"])

    return Starlette(routes=[route(s) for s in Service], exception_handlers={404: no_route, 405: no_route})


def make_s1sp_server(
    endpoint: DuisEndpoint,
    delivery: DeliveryPolicy,
    host: str,
    port: int,
    *,
    limits: ServerLimits | None = None,
    log: bounded.AccessLog = to_stderr,
) -> bounded.HttpServer:
    """The DUIS endpoint on ``host``:``port`` (0: any free port); OSError when it cannot listen.

    Bound to loopback, it answers only calls naming a loopback host (a DNS-rebinding page cannot).
    """
    limits = limits or ServerLimits()
    return bounded.serve(make_app(endpoint, delivery, limits, log), host, port, limits.http, DUIS, log)
