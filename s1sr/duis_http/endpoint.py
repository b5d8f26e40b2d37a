"""What the DUIS endpoint decides, apart from HTTP: admit or refuse a request, execute it, sign the answer.

Checks run in this order, each failure answered with the DUIS code whose published meaning
fits it (docs/duis-transport.md gives the sources, and says where the choice is this
project's reading):

1. the document: safe to parse, valid DUIS if a schema is configured, a readable header
   (else HTTP 400, one line: no DUIS answer can be addressed to a request that cannot be read);
2. the User: a certificate for the business originator verifies the request's signature
   (``E1``), and the originator counter is above every counter already accepted from that
   originator (``E1``: a replay; see docs/duis-transport.md on why E1);
3. the routing: the Command Variant names the service posted to (``E13``), the S1SP handles
   the Service Reference Variant (``E11``), the Command Variant applies to it (``E12``);
4. the body: the S1SP can read it (else HTTP 400).

An admitted request to a device is acknowledged (``I99``) and executed later, in order; a
non-device request is executed at once and answered ``I0``. Every answer is a DUIS
``sr:Response`` signed as a document with the endpoint's DUIS signing key; the SMETS1
Response inside stays signed by the S1SP. A device that does not answer is ``E21``; one that
fails, ``E20``; a request the S1SP refuses, ``E11``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from s1sr.devices.adapter import DeviceError, DeviceTimeout
from s1sr.duis.request import SRV_BODIES, parse_request
from s1sr.duis.safe_xml import parse_xml
from s1sr.duis.schema import DuisSchema
from s1sr.duis.signing import Credentials, verify_element
from s1sr.duis_http.envelope import sign_envelope, status_response
from s1sr.duis_http.services import RequestHeader, ResponseCode, Service, read_header, response_code_of, variant_problem
from s1sr.duis_http.trust import UserDirectory
from s1sr.errors import InputError, UnsupportedRequest
from s1sr.s1sp.api import S1SP, RequestRefused


@dataclass(frozen=True)
class Refusal:
    """A request refused at the HTTP level: status and one line saying why."""

    status: int
    reason: str


@dataclass(frozen=True)
class Answer:
    """A signed DUIS response to send now: its code and, for a refusal, why."""

    header: RequestHeader
    code: str
    xml: bytes
    reason: str = ""


@dataclass(frozen=True)
class Admitted:
    """A request that passed every check, to execute: now (non-device) or after an acknowledgement."""

    header: RequestHeader
    request_xml: bytes
    synchronous: bool


Admission = Refusal | Answer | Admitted


@dataclass(frozen=True)
class Outcome:
    """What executing a request gave: the signed response, its code, and a note for the log."""

    xml: bytes
    code: str
    note: str = ""


@dataclass
class ReplayGuard:
    """The highest originator counter accepted from each User: a counter must rise (DUIS anti-replay)."""

    last: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def accept(self, header: RequestHeader) -> str | None:
        """Record the request's counter; why it is refused when it does not rise (None when accepted)."""
        rid = header.request_id
        with self._lock:
            previous = self.last.get(rid.originator)
            if previous is not None and rid.counter <= previous:
                return (
                    f"originator counter {rid.counter} of User {rid.originator} is not above the last accepted"
                    f" ({previous}): a replayed or reordered request"
                )
            self.last[rid.originator] = rid.counter
        return None


class DuisEndpoint:
    """The reference S1SP (or any S1SP) behind DUIS's checks, answering with signed DUIS responses."""

    def __init__(self, s1sp: S1SP, users: UserDirectory, signer: Credentials, schema: DuisSchema | None = None) -> None:
        self.s1sp = s1sp
        self.users = users
        self.signer = signer
        self.schema = schema
        self.replays = ReplayGuard()
        self._estate = threading.Lock()  # one estate: requests are executed one at a time

    # --- admission ---------------------------------------------------------------------

    def admit(self, body: bytes, service: Service) -> Admission:
        """Check one request posted to ``service``; what to answer now, or the request to execute."""
        try:
            root = parse_xml(body, "request")
            if self.schema is not None:
                problems = self.schema.problems(root, limit=1)
                if problems:
                    return Refusal(400, f"the request is not valid DUIS: {problems[0]}")
            header = read_header(root)
        except InputError as exc:
            return Refusal(400, exc.line())
        rid = header.request_id
        certificates = self.users.certificates(rid.originator)
        if not certificates:
            return self.refuse(
                header, ResponseCode.INVALID_USER, f"no certificate is configured for User {rid.originator}"
            )
        checks = [verify_element(root, certificate) for certificate in certificates]
        if not any(check.valid for check in checks):
            return self.refuse(
                header, ResponseCode.INVALID_USER, f"the User's signature is refused: {checks[0].reason}"
            )
        replayed = self.replays.accept(header)
        if replayed is not None:
            return self.refuse(header, ResponseCode.INVALID_USER, replayed)
        if header.service is not service:
            return self.refuse(
                header,
                ResponseCode.INVALID_REQUEST_FOR_URL,
                f"CommandVariant {header.command_variant} is for the {header.service.title} ({header.service.path}),"
                f" not {service.path}",
            )
        if header.srv not in SRV_BODIES:
            return self.refuse(
                header, ResponseCode.INVALID_REQUEST_FOR_DEVICE, f"the S1SP does not handle SRV {header.srv}"
            )
        problem = variant_problem(header.srv, header.command_variant)
        if problem is not None:
            return self.refuse(header, ResponseCode.INVALID_COMMAND_VARIANT, problem)
        try:
            parse_request(root, "request")
        except UnsupportedRequest as exc:
            return self.refuse(header, ResponseCode.INVALID_REQUEST_FOR_DEVICE, exc.line())
        except InputError as exc:
            return Refusal(400, exc.line())
        return Admitted(header, body, synchronous=service is Service.NON_DEVICE)

    def refuse(self, header: RequestHeader, code: ResponseCode, reason: str) -> Answer:
        """A signed DUIS refusal of ``header``'s request with ``code``."""
        return Answer(header, code.value, sign_envelope(status_response(header, code), self.signer), reason)

    def acknowledge(self, header: RequestHeader) -> Answer:
        """The signed ``I99`` acknowledgement of an admitted device request."""
        code = ResponseCode.ACKNOWLEDGEMENT
        return Answer(header, code.value, sign_envelope(status_response(header, code), self.signer))

    # --- execution ---------------------------------------------------------------------

    def execute(self, admitted: Admitted) -> Outcome:
        """Run the request through the S1SP (one at a time) and sign its response.

        Device timeouts and faults become ``E21`` and ``E20``, a refusal by the S1SP ``E11``;
        any other exception is the S1SP's own failure and propagates.
        """
        header = admitted.header
        with self._estate:
            try:
                response = self.s1sp.respond(admitted.request_xml)
            except RequestRefused as exc:
                return self._status(
                    header, ResponseCode.INVALID_REQUEST_FOR_DEVICE, f"the S1SP refused it: {exc.line()}"
                )
            except DeviceTimeout as exc:
                return self._status(header, ResponseCode.NO_RESPONSE_FROM_DEVICE, str(exc))
            except DeviceError as exc:
                return self._status(header, ResponseCode.CANNOT_COMMUNICATE, str(exc))
        root = parse_xml(response, "the S1SP's response")
        note = ""
        if self.schema is not None:
            problems = self.schema.problems(root, limit=1)
            if problems:
                note = f"the S1SP's response is not valid DUIS: {problems[0]}"  # sent as it is: the User judges it
        return Outcome(sign_envelope(root, self.signer), response_code_of(root), note)

    def execution_failed(self, admitted: Admitted, why: str) -> Outcome:
        """The ``E21`` answer to a request whose execution ran past its deadline."""
        return self._status(admitted.header, ResponseCode.NO_RESPONSE_FROM_DEVICE, why)

    def _status(self, header: RequestHeader, code: ResponseCode, note: str) -> Outcome:
        return Outcome(sign_envelope(status_response(header, code), self.signer), code.value, note)
