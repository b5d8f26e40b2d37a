"""A DCC User's session: DUIS requests out, through the S1SP, SMETS1 Responses back, with evidence.

Every request goes the whole way a real one does: typed values -> DUIS XML ->
(schema check) -> safe parse -> S1SP -> device commands -> adapter -> SMETS1
Response -> signed DUIS XML -> (schema check) -> parse and signature check.
Steps assert on what the User reads back and on what the devices received (recorded
at the adapter), never on the S1SP's internals, so any S1SP can be judged alike.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from lxml import etree

from s1sr.catalogue import DMC, Catalogue
from s1sr.catalogue.sources import command_sources
from s1sr.devices.commands import DeviceCommand, DeviceReply
from s1sr.devices.recording import RecordingAdapter
from s1sr.duis.namespaces import NSMAP
from s1sr.duis.refusal import is_code_only, parse_refusal
from s1sr.duis.request import RequestBody, RequestId, ServiceRequest, XsDateTime, build_request
from s1sr.duis.response import ParsedResponse, SMETS1Response, parse_response
from s1sr.duis.safe_xml import parse_xml
from s1sr.duis.schema import DuisSchema
from s1sr.duis.signing import Credentials, SignatureCheck, verify_element
from s1sr.earlier_reads import ScenarioReads
from s1sr.errors import InputError
from s1sr.observability import EVERY_VIEW
from s1sr.s1sp.api import S1SP, RequestRefused

#: The business originator of requests the harness sends unless a scenario names a role (the RTDS test User).
USER_ID = "90-B3-D5-1F-30-01-00-00"
#: The DCC, business target of SRV 11.1.
DCC_ID = "90-B3-D5-1F-30-00-00-02"
#: Where the counters of an in-process run start: the same every run, so its evidence is too.
IN_PROCESS_COUNTER_START = 1000
#: Where the signed SMETS1 Response's Timestamp is in a DUIS Response.
TIMESTAMP = "sr:Body/sr:SMETS1ResponseMessage/sr:SMETS1SignedResponse/sr:SMETS1Response/sr:Header/ra:Timestamp"


class OriginatorCounter:
    """The User's originator counters for a run: strictly rising across every scenario of the process.

    One source per process, shared by every :class:`UserSession`, because a DUIS endpoint
    refuses a counter that is not above every one already accepted from the User (a replay).
    Thread-safe.
    """

    def __init__(self, start: int = IN_PROCESS_COUNTER_START) -> None:
        """Counters after ``start``: the first issued is ``start + 1``."""
        self._last = start
        self._lock = threading.Lock()

    @classmethod
    def from_clock(cls) -> OriginatorCounter:
        """Counters from the time in milliseconds, as DCC's signing tool stamps them.

        So a later run against the same long-lived endpoint starts above every counter of an
        earlier one (as long as no run sends more than one request a millisecond on average).
        """
        return cls(time.time_ns() // 1_000_000)

    @property
    def last(self) -> int:
        """The last counter issued (the start, before any)."""
        with self._lock:
            return self._last

    def next(self) -> int:
        """The next counter, above every one issued before."""
        with self._lock:
            self._last += 1
            return self._last


class SchemaViolation(AssertionError):
    """A message the harness or the S1SP produced is not valid DUIS: a non-conformance."""


class SignatureFailure(AssertionError):
    """A SMETS1 Response's signature is missing or does not verify: a non-conformance."""


class CorrelationFailure(AssertionError):
    """A response does not carry the identifiers of the request it answers: a non-conformance."""


def correlation_problems(request: ServiceRequest, read: ParsedResponse) -> list[str]:
    """Where a response disagrees with its request on what a User correlates on (empty when it agrees).

    The DUIS header must echo the RequestID; the signed SMETS1 Response must come from the
    request's target, be addressed to its originator, carry its counter, and answer its SRV.
    """
    rid = request.request_id
    problems = []
    if read.response.request_id != rid:
        problems.append(f"sr:Header/sr:RequestID is {read.response.request_id}, not the request's {rid}")
    header = read.signed_header
    if header is None:
        return [*problems, "the SMETS1 Response has no signed header"]
    for what, found, expected in (
        ("BusinessOriginatorID", header.originator.upper(), rid.target),
        ("BusinessTargetID", header.target.upper(), rid.originator),
        ("OriginatorCounter", header.counter, str(rid.counter)),
        ("ServiceReferenceVariant", header.srv, request.srv),
    ):
        if found != expected:
            problems.append(f"signed SMETS1Response Header/{what} is {found or '(empty)'!r}, expected {expected!r}")
    return problems


@dataclass
class SchemaCounts:
    """How many messages were validated against the DUIS schema, and how many were invalid."""

    requests_validated: int = 0
    responses_validated: int = 0
    invalid: int = 0


@dataclass
class Evidence:
    """One request's record: the XML both ways, the device commands, and the verdicts on them."""

    srv: str
    request_xml: str
    response_xml: str = ""
    device_commands: list[dict[str, Any]] = field(default_factory=list)
    refused: str = ""
    request_schema: str = "not checked"
    response_schema: str = "not checked"
    signature: str = "not checked"
    correlation: str = "not checked"
    success: bool | None = None
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    duration_s: float = 0.0
    #: When the request was sent: UTC, ISO 8601 to the millisecond, by the wall clock (never the S1SP's
    #: scenario clock, which a scenario may set to another day), so exchanges line up with device and S1SP logs.
    sent_at: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dict(self.__dict__)


class UserSession:
    """Sends DUIS requests as the User and keeps what came back, for steps and evidence."""

    def __init__(
        self,
        s1sp: S1SP,
        adapter: RecordingAdapter,
        dmc: DMC,
        trust: Credentials,
        schema: DuisSchema | None = None,
        counts: SchemaCounts | None = None,
        *,
        counters: OriginatorCounter | None = None,
        s1sp_certificates: Sequence[bytes] = (),
        observes: frozenset[str] = EVERY_VIEW,
        catalogue: Catalogue | None = None,
        earlier_reads: ScenarioReads | None = None,
    ) -> None:
        """A session sending through ``s1sp``; the estate is seen through ``adapter``.

        ``trust`` holds the certificate the S1SP signs SMETS1 Responses with, unless
        ``s1sp_certificates`` names the certificates that may (any one of them verifies).
        ``counters`` is the run's counter source (a fresh one from 1000 when not given);
        ``observes`` says what of the estate the harness sees ("device-commands",
        "device-state"): all of it in process, less behind a DUIS endpoint.
        ``earlier_reads`` (behind DUIS, with a cache in force) says which answers may come from the
        S1SP's cache of a read made before this scenario (:mod:`s1sr.earlier_reads`).
        """
        self.s1sp = s1sp
        self.adapter = adapter
        self.dmc = dmc
        self.trust = trust
        self.s1sp_certificates: tuple[bytes, ...] = tuple(s1sp_certificates) or (trust.cert_pem,)
        self.schema = schema
        self.counts = counts if counts is not None else SchemaCounts()
        self.counters = counters if counters is not None else OriginatorCounter()
        #: The counter of the last request (the source's start before any).
        self.counter = self.counters.last
        #: What of the estate this session can see: "device-commands", "device-state".
        self.observes = observes
        #: The catalogue the harness decides each command field's source from, for evidence (None: not shown).
        self.catalogue = catalogue
        #: Steps recorded as not observable on this target (their texts), in order.
        self.not_observed: list[str] = []
        self.earlier_reads = earlier_reads
        #: Why answers of this scenario may come from a cache filled before it, one line each, in order.
        self.predated: list[str] = []
        self.evidence: list[Evidence] = []
        self.last_commands: list[tuple[DeviceCommand, DeviceReply]] = []
        self.last_response: SMETS1Response | None = None
        self.last_refusal: InputError | None = None
        self.state_before_last: dict[str, Any] = {}
        self.state_after_last: dict[str, Any] = {}
        #: The User ID requests are sent as (a scenario's ``Given the User is ...`` changes it).
        self.user_id = USER_ID

    # -- the estate ------------------------------------------------------------

    @property
    def meter_id(self) -> str:
        """The meter under test: the first ESME or GSME the adapter lists."""
        return self.adapter.first("ESME", "GSME").device_id

    @property
    def comms_hub_id(self) -> str:
        """The Communications Hub of the meter under test's HAN."""
        han = self.adapter.device(self.meter_id).han
        return self.adapter.first("CHF", han=han).device_id

    @property
    def fuel(self) -> str:
        """The fuel of the DMC's meter ("electricity" or "gas")."""
        return self.dmc.meter.fuel

    def meter_state(self, device_id: str | None = None) -> dict[str, Any]:
        """The adapter's snapshot of one device (the meter under test by default)."""
        key = device_id or self.meter_id
        self.adapter.device(key)  # a device the adapter does not list is its fault, not the S1SP's
        state: dict[str, Any] = self.adapter.snapshot()[key]
        return state

    # -- sending ---------------------------------------------------------------

    def request(self, srv: str, body: RequestBody, target: str, originator: str | None = None) -> ServiceRequest:
        """A typed request from the User (or ``originator``) to ``target`` with the run's next counter."""
        self.counter = self.counters.next()
        return ServiceRequest(RequestId(originator or self.user_id, target, self.counter), srv, body)

    def send(
        self, srv: str, body: RequestBody, target: str, *, expect_invalid: bool = False, observe: bool = False
    ) -> SMETS1Response | None:
        """Send one request; return the response, or None when the S1SP refused it as invalid.

        With ``expect_invalid`` the request is not schema-checked on the way out (the
        scenario means to send something that is not valid DUIS). With ``observe`` the
        request is a read made to check an outcome: it is recorded as evidence but does
        not become "the last request" that steps ask about, and it is sent as the default
        User (:data:`USER_ID`), whatever role the scenario acts in.
        """
        started, sent_at = time.perf_counter(), datetime.now(UTC).isoformat(timespec="milliseconds")
        request = self.request(srv, body, target, USER_ID if observe else None)
        xml = build_request(request)
        record = Evidence(srv, xml.decode("utf-8"), sent_at=sent_at)
        self.evidence.append(record)
        logged = len(self.adapter.log)
        if not observe:
            self.last_commands, self.last_response, self.last_refusal = [], None, None
            self.state_before_last = self.adapter.snapshot()
        try:
            if self.schema is not None and not expect_invalid:
                self._check(xml, "request", record)
            try:
                response_xml = self.s1sp.respond(xml)
            except RequestRefused as exc:
                record.refused = exc.line()
                if not observe:
                    self.last_refusal = exc
                return None
            record.response_xml = response_xml.decode("utf-8")
            # One safe parse of the response: the tree the schema checked is the tree read (validation leaves it as is).
            if self.schema is not None:
                root = self._check(response_xml, "response", record)
            else:
                root = parse_xml(response_xml, f"SRV {srv} response")
            if is_code_only(root):
                return self._refused(request, root, record, observe)
            read = self._verified(root)
            record.signature = read.signature.reason
            if not read.signature.valid:
                raise SignatureFailure(f"SRV {srv} response: {read.signature.reason}")
            mismatched = correlation_problems(request, read)
            record.correlation = "; ".join(mismatched) or "matches the request"
            if mismatched:
                raise CorrelationFailure(
                    f"SRV {srv} response does not answer request {request.request_id}: {mismatched[0]}"
                )
            record.success = read.response.success
            record.outcomes = [o.__dict__ for o in read.response.outcomes]
            if self.earlier_reads is not None and read.response.success:
                reason = self.earlier_reads.read(request, _stamp(root), read.response.values)
                if reason is not None:
                    self.predated.append(reason)
            if not observe:
                self.last_response = read.response
            return read.response
        finally:
            commands = self.adapter.log[logged:]
            record.device_commands = [
                {**c.as_dict(), **self._sources(srv, c), "reply": r.as_dict()} for c, r in commands
            ]
            if not observe:
                self.last_commands = list(commands)
                self.state_after_last = self.adapter.snapshot()
            record.duration_s = round(time.perf_counter() - started, 6)

    def _refused(
        self, request: ServiceRequest, root: etree._Element, record: Evidence, observe: bool
    ) -> SMETS1Response:
        """A response carrying only a DUIS code (E2, E11...): checked as signed and correlated, read as a failure."""
        srv = request.srv
        refusal = parse_refusal(root, self.s1sp_certificates, f"SRV {srv} response")
        record.signature = refusal.signature.reason
        if not refusal.signature.valid:
            raise SignatureFailure(f"SRV {srv} response ({refusal.code}): {refusal.signature.reason}")
        problems = []
        if refusal.request_id != request.request_id:
            problems.append(f"sr:Header/sr:RequestID is {refusal.request_id}, not the request's {request.request_id}")
        if refusal.srv != srv:
            problems.append(f"ResponseMessage/ServiceReferenceVariant is {refusal.srv!r}, expected {srv!r}")
        record.correlation = "; ".join(problems) or "matches the request"
        if problems:
            raise CorrelationFailure(f"SRV {srv} response does not answer request {request.request_id}: {problems[0]}")
        response = SMETS1Response(request.request_id, srv, request.service_reference, False, response_code=refusal.code)
        record.success = False
        if not observe:
            self.last_response = response
        return response

    def read(self, srv: str, body: RequestBody, target: str | None = None) -> SMETS1Response:
        """Send a read (as an observation) and return its response; a refusal is a failure."""
        response = self.send(srv, body, target or self.meter_id, observe=True)
        if response is None:
            raise AssertionError(f"the S1SP refused the SRV {srv} read: {self.evidence[-1].refused}")
        return response

    def _sources(self, srv: str, command: DeviceCommand) -> dict[str, dict[str, str]]:
        """``{"sources": {field: where its value came from}}`` as the harness decides it, not the S1SP's label."""
        if self.catalogue is None:
            return {}
        found = command_sources(self.catalogue, srv, command.name, dict(command.fields), dict(command.defaults))
        return {"sources": {s.field: s.describe() for s in found}}

    def _verified(self, root: etree._Element) -> ParsedResponse:
        """The response read, its SMETS1 Response's signature checked with each trusted certificate in turn."""
        read = parse_response(root, self.s1sp_certificates[0])
        signed = root.find("sr:Body/sr:SMETS1ResponseMessage/sr:SMETS1SignedResponse", NSMAP)
        if read.signature.valid or signed is None:
            return read
        for cert in self.s1sp_certificates[1:]:
            check: SignatureCheck = verify_element(signed, cert)
            if check.valid:
                return dataclasses.replace(read, signature=check)
        return read  # the first certificate's reason stands for all

    def _check(self, xml: bytes, kind: str, record: Evidence) -> etree._Element:
        """Validate against the DUIS schema and return the tree checked.

        The verdict goes into the evidence; a violation fails the scenario.
        """
        assert self.schema is not None
        root = parse_xml(xml, kind)
        if kind == "request":
            self.counts.requests_validated += 1
        else:
            self.counts.responses_validated += 1
        problems = self.schema.problems(root)  # one lxml validation; xmlschema only explains an invalid one
        verdict = "valid" if not problems else "INVALID: " + "; ".join(str(p) for p in problems)
        if kind == "request":
            record.request_schema = verdict
        else:
            record.response_schema = verdict
        if problems:
            self.counts.invalid += 1
            raise SchemaViolation(f"the {kind} is not valid DUIS: {verdict.removeprefix('INVALID: ')}")
        return root

    # -- reading back ----------------------------------------------------------

    def commands_sent(self) -> list[tuple[DeviceCommand, DeviceReply]]:
        """Device commands of the last request, as the devices received them."""
        return list(self.last_commands)

    def require_response(self) -> SMETS1Response:
        """The last response; a clear failure if the last request was refused instead."""
        if self.last_response is None:
            reason = self.last_refusal.line() if self.last_refusal else "no request was sent"
            raise AssertionError(f"expected a SMETS1 Response, but the S1SP refused the request: {reason}")
        return self.last_response

    def evidence_dicts(self) -> list[dict[str, Any]]:
        """Evidence of every request of the scenario, JSON-ready (XML kept, long values shortened)."""
        return [e.as_dict() for e in self.evidence]


def _stamp(root: etree._Element) -> int | None:
    """The SMETS1 Response's Timestamp, whole seconds since 1970 UTC; None when absent or not a date-time."""
    text = (root.findtext(TIMESTAMP, None, NSMAP) or "").strip()
    try:
        return XsDateTime.parse(text).utc_seconds if text else None
    except InputError:
        return None
