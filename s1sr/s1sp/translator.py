"""The reference S1SP: one request at a time, through its SRV's handler, to the device adapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from s1sr.catalogue import DMC, Catalogue, DeviceModel, device_models
from s1sr.devices.adapter import DEFAULT_TIMEOUT_S, DeviceAdapter
from s1sr.devices.commands import COMMANDS, DeviceCommand, DeviceReply
from s1sr.duis.refusal import build_refusal
from s1sr.duis.request import ServiceRequest, parse_request
from s1sr.duis.response import Outcome, SMETS1Response, build_response
from s1sr.duis.safe_xml import parse_xml
from s1sr.duis.signing import Credentials, generated_credentials
from s1sr.errors import InputError, UnsupportedRequest
from s1sr.s1sp import firmware, han, load_limit, prepayment, reads  # noqa: F401 - registers the handlers
from s1sr.s1sp.access import Denial, check_access
from s1sr.s1sp.api import S1SP, RequestRefused
from s1sr.s1sp.cache import ReadCache, cache_periods
from s1sr.s1sp.outcomes import DEVICE_REJECTED
from s1sr.s1sp.router import HANDLERS
from s1sr.s1sp.rules import S1SPRules


@dataclass
class Exchange:
    """One request through the S1SP: the device commands sent, the replies, and the response or the denial."""

    request: ServiceRequest
    commands: list[tuple[DeviceCommand, DeviceReply]] = field(default_factory=list)
    response: SMETS1Response | None = None
    #: Why the request was refused before any device command (E2, E11), when it was.
    denial: Denial | None = None

    def response_xml(self, credentials: Credentials) -> bytes:
        """The DUIS response a User gets: the signed SMETS1 Response, or the code-only refusal."""
        if self.denial is not None:
            request = self.request
            return build_refusal(
                request.request_id, request.service_reference, request.srv, self.denial.code, credentials
            )
        assert self.response is not None
        return build_response(self.response, credentials)

    def answer(self) -> SMETS1Response:
        """What the User reads: the SMETS1 Response, or for a denial a failure carrying only its DUIS code."""
        if self.response is not None:
            return self.response
        assert self.denial is not None
        request = self.request
        return SMETS1Response(
            request.request_id, request.srv, request.service_reference, False, response_code=self.denial.code
        )


class HandlerContext:
    """What a handler may use: the rules, and a way to send commands that records them."""

    def __init__(
        self, rules: S1SPRules, fuel: str, adapter: DeviceAdapter, exchange: Exchange, timeout_s: float
    ) -> None:
        self.rules = rules
        self.fuel = fuel
        self._adapter = adapter
        self._exchange = exchange
        self._timeout_s = timeout_s

    def command(self, srv: str, name: str, device_id: str, **fields: Any) -> DeviceCommand:
        """Build a device command, completing the fields DUIS does not carry from Annex C."""
        defaults: dict[str, str] = {}
        for name_of_field in COMMANDS[name]:
            if name_of_field not in fields:
                fields[name_of_field], defaults[name_of_field] = self.rules.default(srv, name, name_of_field)
        return DeviceCommand(name, device_id, fields, defaults)

    def send(self, command: DeviceCommand) -> DeviceReply:
        """Send one command through the adapter and record it (device errors propagate)."""
        reply = self._adapter.execute(command, self._timeout_s)
        self._exchange.commands.append((command, reply))
        return reply

    @staticmethod
    def ok(request: ServiceRequest, values: dict[str, Any] | None = None) -> SMETS1Response:
        """A success response."""
        return SMETS1Response(request.request_id, request.srv, request.service_reference, True, dict(values or {}))

    def outcome(self, outcome_class: str, position: int, text: str) -> Outcome:
        """One outcome of ``outcome_class``, carried by its catalogue code."""
        return Outcome(self.rules.code(outcome_class), position, text)

    def rejected(self, request: ServiceRequest, outcome_class: str, text: str) -> SMETS1Response:
        """A failure response with one outcome of ``outcome_class`` naming why."""
        return SMETS1Response(
            request.request_id,
            request.srv,
            request.service_reference,
            False,
            {},
            [self.outcome(outcome_class, 1, text)],
        )

    def relay(
        self, request: ServiceRequest, reply: DeviceReply, values: dict[str, Any] | None = None
    ) -> SMETS1Response:
        """Success when the device accepted, else a failure carrying the device's reason."""
        if reply.accepted:
            return self.ok(request, values)
        return self.rejected(request, DEVICE_REJECTED, f"device rejected the command: {reply.reason}")


class ReferenceS1SP(S1SP):
    """The reference S1SP for one S1SR version and one DMC, driving one device adapter."""

    name = "reference"

    def __init__(
        self,
        catalogue: Catalogue,
        dmc: DMC,
        adapter: DeviceAdapter,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        credentials: Credentials | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.dmc = dmc
        self.adapter = adapter
        self.rules = S1SPRules.from_catalogue(catalogue, dmc)
        self.timeout_s = timeout_s
        self.credentials = credentials or generated_credentials()
        self._estate: dict[str, tuple[DeviceModel | None, str]] | None = None
        self.cache = ReadCache(cache_periods(c.parameters for c in catalogue.clauses))

    @classmethod
    def create(
        cls, catalogue: Catalogue, dmc: DMC, adapter: DeviceAdapter, credentials: Credentials, timeout_s: float
    ) -> ReferenceS1SP:
        """The reference S1SP for this version, DMC and adapter."""
        return cls(catalogue, dmc, adapter, timeout_s, credentials)

    def respond(self, request_xml: bytes) -> bytes:
        """DUIS in, DUIS out: safe parse, translate, execute, answer with a signed SMETS1 Response."""
        try:
            request = parse_request(parse_xml(request_xml, "request"), "request")
        except (InputError, UnsupportedRequest) as exc:
            raise RequestRefused(exc.what, exc.where, exc.fix) from None
        return self.handle(request).response_xml(self.credentials)

    def target(self, device_id: str) -> tuple[DeviceModel | None, str | None]:
        """The model and type of the estate's device ``device_id`` (None, None when it is not a device of it)."""
        if self._estate is None:  # the estate is fixed for the adapter's life: list it once
            models = device_models()
            self._estate = {
                d.device_id.upper(): (models.get(d.device_model), d.device_type) for d in self.adapter.devices()
            }
        return self._estate.get(device_id.upper(), (None, None))

    def handle(self, request: ServiceRequest) -> Exchange:
        """Translate and execute one request; the exchange holds the response and every command."""
        handler = HANDLERS.get(request.srv)
        if handler is None:
            raise UnsupportedRequest(
                f"the reference S1SP has no handler for SRV {request.srv}", "ServiceReferenceVariant"
            )
        exchange = Exchange(request)
        model, device_type = self.target(request.request_id.target)
        exchange.denial = check_access(self.catalogue.eligibility, request, model, device_type)
        if exchange.denial is not None:
            return exchange
        now = self.clock.now()
        exchange.response = self.cache.answer(request, now)
        if exchange.response is not None:
            return exchange
        exchange.response = handler(
            HandlerContext(self.rules, self.dmc.meter.fuel, self.adapter, exchange, self.timeout_s), request
        )
        exchange.response.timestamp = now.replace(microsecond=0)
        self.cache.keep(request, exchange.response, now)
        return exchange
