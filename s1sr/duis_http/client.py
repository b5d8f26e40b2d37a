"""A DCC User's DUIS client: sign a request, send it to the service its Command Variant names, get its result.

Each request is signed as the User its RequestID's business originator names: with that
User's own key when the client holds one (:attr:`ClientSettings.users`), else with the
client's default identity (:attr:`ClientSettings.user`).

The result is the synchronous reply when it is ``I0``; after an ``I99`` acknowledgement it
is the asynchronous response that arrives at the client's :class:`ResponseListener`
(matched by RequestID), within a deadline per request counted from the send. Every reply
and response must carry a DUIS signature that one of the trusted certificates verifies.
The S1SP's own signature on ``SMETS1SignedResponse`` is the caller's to check (a
:class:`s1sr.session.UserSession` does).

Every way an exchange can fail is a :class:`DuisTransportError` (a :class:`DeviceError`, so
the harness reports it as ``error``): no answer in time (:class:`DuisTimeout`), a refusal
(:class:`DuisRejected`, with the DUIS response code or the HTTP status, and the signed DUIS
response that refused it when there is one), a signature no trusted certificate verifies
(:class:`DuisSignatureError`), or an answer outside DUIS.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Literal

import httpx
from lxml import etree

from s1sr import __version__
from s1sr.bounded_http.client import read_answer
from s1sr.bounded_http.lines import one_line
from s1sr.devices.adapter import DeviceError
from s1sr.duis.namespaces import NSMAP
from s1sr.duis.request import RequestId
from s1sr.duis.safe_xml import parse_xml
from s1sr.duis.schema import DuisSchema
from s1sr.duis.signing import Credentials, SignatureCheck
from s1sr.duis_http.delivery import check_response_url
from s1sr.duis_http.envelope import sign_envelope, strip_envelope_signature, verify_envelope
from s1sr.duis_http.listener import DEFAULT_PATH, ResponseListener
from s1sr.duis_http.services import (
    MAX_MESSAGE_BYTES,
    REFUSAL_HEADER,
    XML_MEDIA_TYPE,
    RequestHeader,
    ResponseCode,
    Service,
    read_header,
    request_id_of,
    response_code_of,
)
from s1sr.duis_http.trust import split_certificates
from s1sr.errors import ConfigError, InputError

CounterPolicy = Literal["preserve", "stamp"]


class DuisTransportError(DeviceError):
    """A DUIS exchange did not give a result: the verdict is ``error``, never a pass or a failure."""


class DuisTimeout(DuisTransportError):
    """No reply, or no asynchronous response, within the deadline."""


class DuisRejected(DuisTransportError):
    """The endpoint refused the request: ``code`` is the DUIS response code (``E1``...) or ``HTTP 400``...

    ``response_xml`` is the DUIS response carrying the code, as received (its DUIS signature
    verified, its RequestID the request's; at once or after an ``I99``), None for an HTTP refusal.
    """

    def __init__(self, code: str, message: str, response_xml: bytes | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.response_xml = response_xml


class DuisSignatureError(DuisTransportError):
    """A reply or response whose DUIS signature no trusted certificate verifies."""


@dataclass(frozen=True)
class ClientSettings:
    """How a User reaches a DUIS endpoint and where its responses come back."""

    #: The endpoint's base URL (``http://host:port``); the service path is added per request.
    url: str
    #: The default identity: signs every request whose originator has no key of its own in ``users``.
    user: Credentials
    #: Certificates that may sign the endpoint's replies and responses (PEM; a bundle may hold several).
    trust: tuple[bytes, ...]
    listen_host: str = "127.0.0.1"
    listen_port: int = 0
    response_path: str = DEFAULT_PATH
    #: From sending a request to having its result, synchronous or not.
    response_timeout_s: float = 30.0
    #: "preserve": the counter as written; "stamp": replaced, as DCC's signing tool does, by the
    #: time in milliseconds (or one more than the last, if that is not above it).
    counter: CounterPolicy = "preserve"
    #: Refuse to send a counter that is not above the last one sent for the same originator.
    strict_counters: bool = True
    #: When given, acknowledgements and results are checked against it (results' problems are reported).
    schema: DuisSchema | None = None
    #: Other Users' signing keys and certificates, by User ID (EUI-64, DUIS form): a request whose
    #: originator is one of them is signed with its key.
    users: Mapping[str, Credentials] = field(default_factory=dict)


@dataclass(frozen=True)
class DuisResult:
    """The outcome of one request: the response that carries its result, and how it came."""

    request_id: RequestId
    service: Service
    response_code: str
    #: The DUIS response carrying the result, as received (the synchronous reply or the asynchronous response).
    response_xml: bytes
    #: The ``I99`` acknowledgement, when the result came asynchronously.
    acknowledgement_xml: bytes | None
    signature: SignatureCheck
    #: What the DUIS schema finds wrong with ``response_xml`` (empty when valid or not checked).
    schema_problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Reply:
    body: bytes
    #: The endpoint's one-line reason for a refusal (``S1SR-Refusal``), if it gave one.
    refusal: str


class _Pending:
    """Requests awaiting their asynchronous response, by RequestID."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, Future[bytes]] = {}

    def expect(self, request_id: str) -> Future[bytes]:
        with self._lock:
            if request_id in self._waiting:
                raise DuisTransportError(
                    f"request {request_id} is already awaiting its response: RequestIDs are unique"
                )
            future: Future[bytes] = Future()
            self._waiting[request_id] = future
            return future

    def get(self, request_id: str) -> Future[bytes] | None:
        with self._lock:
            return self._waiting.get(request_id)

    def forget(self, request_id: str) -> None:
        with self._lock:
            self._waiting.pop(request_id, None)


class DuisClient:
    """Sends DUIS requests, each as the User it names, and collects their results; runs its listener while open."""

    def __init__(self, settings: ClientSettings, listener: ResponseListener | None = None) -> None:
        """A client for ``settings``; ``listener``, if given, is adopted (its URL already known to the endpoint)."""
        self.settings = settings
        self.base = check_response_url(settings.url, "DUIS endpoint URL").rstrip("/")
        #: The trusted certificates, one PEM each (a bundle given as one is split).
        self.trust = split_certificates(settings.trust)
        if not self.trust:
            raise ConfigError(
                "no certificate to trust the endpoint's signatures with", "--trust", "name its certificates"
            )
        self._pending = _Pending()
        self._counters: dict[str, int] = {}
        self._counter_lock = threading.Lock()
        self.unmatched = 0
        if listener is None:
            listener = ResponseListener(
                self._take_response, settings.listen_host, settings.listen_port, settings.response_path
            )
        listener.accept = self._take_response
        self.listener = listener
        self._http = httpx.Client(
            follow_redirects=False,
            trust_env=False,  # the endpoint is called directly: no proxy from the environment
            headers={
                "Content-Type": XML_MEDIA_TYPE,
                "Accept": XML_MEDIA_TYPE,
                "Accept-Encoding": "identity",
                "User-Agent": f"s1sr/{__version__}",
            },
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=2, keepalive_expiry=2.0),
        )

    @property
    def response_url(self) -> str:
        """Where the endpoint must POST this User's asynchronous responses."""
        return self.listener.url

    def start(self) -> DuisClient:
        """Start the response listener (if not running)."""
        self.listener.start()
        return self

    def close(self) -> None:
        """Stop the listener and close the connections."""
        self.listener.stop()
        self._http.close()

    def __enter__(self) -> DuisClient:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- sending ------------------------------------------------------------------------

    def signer(self, originator: str) -> Credentials:
        """The key a request from ``originator`` is signed with: that User's own, else the default identity."""
        return self.settings.users.get(originator.upper(), self.settings.user)

    def send(self, request_xml: bytes) -> DuisResult:
        """Sign ``request_xml`` as its originator, send it, and return its result (or raise a DuisTransportError).

        A signature the request already carries (an RTDS template's placeholder) is replaced.
        """
        self.start()
        root = parse_xml(request_xml, "request")
        header = read_header(root)
        header = self._counter(root, header)
        strip_envelope_signature(root)
        signed = sign_envelope(root, self.signer(header.request_id.originator))
        request_id = str(header.request_id)
        deadline = time.monotonic() + self.settings.response_timeout_s
        waiting = self._pending.expect(request_id)  # before sending: the response may overtake the reply
        try:
            reply = self._post(header.service, signed, deadline)
            reply_root = self._read(reply.body, "reply", header)
            if response_code_of(reply_root) == ResponseCode.ACKNOWLEDGEMENT.value:
                self._schema_check(reply_root, "acknowledgement", fatal=True)
                response = self._await(waiting, header, deadline)
                response_root = parse_xml(response, "asynchronous response")
                return self._result(header, response, response_root, reply.body, "")
            return self._result(header, reply.body, reply_root, None, reply.refusal)
        finally:
            self._pending.forget(request_id)

    def _counter(self, root: etree._Element, header: RequestHeader) -> RequestHeader:
        """Apply the counter policy and check that the User's counters rise."""
        rid = header.request_id
        with self._counter_lock:
            last = self._counters.get(rid.originator)
            counter = rid.counter
            if self.settings.counter == "stamp":
                counter = max(int(time.time() * 1000), (last or 0) + 1)
            elif self.settings.strict_counters and last is not None and counter <= last:
                raise DuisTransportError(
                    f"request {rid}: counter {counter} is not above the last sent for User {rid.originator} ({last});"
                    " DUIS refuses it as a replay: give each request a higher counter, or stamp counters"
                )
            self._counters[rid.originator] = max(counter, last or 0)
        if counter == rid.counter:
            return header
        stamped = RequestId(rid.originator, rid.target, counter)
        node = root.find("sr:Header/sr:RequestID", NSMAP)
        assert node is not None  # read_header found it
        node.text = str(stamped)
        return RequestHeader(stamped, header.command_variant, header.service_reference, header.srv)

    def _post(self, service: Service, signed: bytes, deadline: float) -> _Reply:
        """POST to the service; the reply's body (HTTP 200), else a DuisTransportError naming what happened."""
        url = self.base + service.path
        left = max(0.001, deadline - time.monotonic())
        try:
            with self._http.stream("POST", url, content=signed, timeout=httpx.Timeout(left)) as answer:
                status = answer.status_code
                body = read_answer(answer, MAX_MESSAGE_BYTES, deadline, f"{url} replied", DuisTransportError)
                refusal = answer.headers.get(REFUSAL_HEADER, "")
                media_type = answer.headers.get("content-type", "").split(";")[0].strip().lower()
        except httpx.TimeoutException:
            raise DuisTimeout(f"no reply from {url} within {self.settings.response_timeout_s:g} s") from None
        except httpx.HTTPError as exc:
            raise DuisTransportError(f"cannot reach the DUIS endpoint {url}: {one_line(str(exc), 200)}") from None
        if status != 200:
            text = refusal or one_line(body.decode("utf-8", "replace"), 300) or "no reason given"
            if status == 504:
                raise DuisTimeout(f"{url} answered HTTP 504: {text}")
            if 400 <= status < 500:
                raise DuisRejected(f"HTTP {status}", f"{url} refused the request with HTTP {status}: {text}")
            raise DuisTransportError(f"{url} answered HTTP {status}: {text}")
        if media_type != XML_MEDIA_TYPE:
            raise DuisTransportError(f"{url} replied {media_type or 'without a Content-Type'}, not {XML_MEDIA_TYPE}")
        return _Reply(body, refusal)

    def _read(self, reply: bytes, what: str, header: RequestHeader) -> etree._Element:
        """The reply parsed, its signature verified and its RequestID the request's; else a DuisTransportError."""
        try:
            root = parse_xml(reply, what)
            found = request_id_of(root, what)
        except InputError as exc:
            raise DuisTransportError(
                f"the {what} to {header.request_id} is not a DUIS response: {exc.line()}"
            ) from None
        if found != header.request_id:
            raise DuisTransportError(f"the {what} to {header.request_id} carries RequestID {found}")
        check = verify_envelope(root, self.trust)
        if not check.valid:
            raise DuisSignatureError(f"the {what} to {header.request_id}: {check.reason}")
        return root

    def _await(self, waiting: Future[bytes], header: RequestHeader, deadline: float) -> bytes:
        try:
            return waiting.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            raise DuisTimeout(
                f"request {header.request_id} was acknowledged (I99) but no response came to {self.response_url}"
                f" within {self.settings.response_timeout_s:g} s"
            ) from None

    def _result(
        self, header: RequestHeader, xml: bytes, root: etree._Element, acknowledgement: bytes | None, reason: str
    ) -> DuisResult:
        """The result carried by ``root``, or the DuisTransportError its response code stands for."""
        code = response_code_of(root)
        where = f"request {header.request_id} (SRV {header.srv})"
        if code == ResponseCode.NO_RESPONSE_FROM_DEVICE.value:
            raise DuisTimeout(f"{where}: E21, no response received from the device" + (f": {reason}" if reason else ""))
        if code.startswith("E"):
            meaning = next((c.meaning for c in ResponseCode if c.value == code), "a DUIS error")
            raise DuisRejected(code, f"{where} refused: {code} ({meaning})" + (f": {reason}" if reason else ""), xml)
        if code != ResponseCode.SUCCESS.value:
            raise DuisTransportError(f"{where}: response code {code or '(none)'}, expected I0")
        problems = self._schema_check(root, "response", fatal=False)
        return DuisResult(
            header.request_id, header.service, code, xml, acknowledgement, SignatureCheck(True, "verified"), problems
        )

    def _schema_check(self, root: etree._Element, what: str, *, fatal: bool) -> tuple[str, ...]:
        if self.settings.schema is None:
            return ()
        problems = tuple(str(p) for p in self.settings.schema.problems(root, limit=3))
        if problems and fatal:
            raise DuisTransportError(f"the {what} is not valid DUIS: {problems[0]}")
        return problems

    # --- the listener's side --------------------------------------------------------------

    def _take_response(self, body: bytes) -> str | None:
        """An asynchronous response: matched, verified, handed to its request; else why it is refused."""
        try:
            root = parse_xml(body, "asynchronous response")
            request_id = str(request_id_of(root, "asynchronous response"))
        except InputError as exc:
            return exc.line()
        waiting = self._pending.get(request_id)
        if waiting is None:
            self.unmatched += 1  # a late response, or one for another User's request: taken, and dropped
            return None
        try:
            check = verify_envelope(root, self.trust)
        except Exception as exc:  # the request learns of it now rather than at its deadline
            waiting.set_exception(DuisTransportError(f"the asynchronous response to {request_id}: {exc}"))
            raise
        if not check.valid:
            waiting.set_exception(DuisSignatureError(f"the asynchronous response to {request_id}: {check.reason}"))
            return f"the DUIS signature does not verify: {check.reason}"
        if not waiting.done():
            waiting.set_result(body)
        return None
