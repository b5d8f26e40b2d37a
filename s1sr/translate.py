"""``s1sr translate``: DUIS requests through the reference S1SP, in order, against one simulated estate.

Every request is read and checked before anything is sent (safe XML, the DUIS schema when one
is configured, the S1SP's own reading, a DMC for all of them), so bad input changes nothing.
The estate is fresh, put in the starting state asked for (:mod:`s1sr.estate_state`), with the
meters the requests address placed on HAN-A; then the requests run one after the other on
it, so SRV 11.1 then 11.3 act on the same HAN.

Future-dated requests (``ExecutionDateTime``) are refused, one line (interpretation): for the
SRVs the reference S1SP handles, DUIS has the device hold a future-dated command until its date
(1.6, 2.1, 6.4.1, 11.3; reached through a signed Pre-Command, Command Variant 5) or the DCC
schedule it (8.11), and a date of 3000-12-31T00:00:00 cancels such a command. ``translate``
executes on demand on an estate with no clock and ends with the response; running the
request now would answer a question it does not ask, and holding it is a scheduler
``translate`` does not have.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from s1sr.catalogue import find_dmc, load_catalogue
from s1sr.catalogue.sources import command_sources
from s1sr.devices.adapter import DEFAULT_TIMEOUT_S, DeviceError
from s1sr.devices.simulated import ESTATE, SimulatedAdapter
from s1sr.dmc_choice import DmcChoice, choose_dmc
from s1sr.duis.request import ServiceRequest, UpdateFirmware, parse_request
from s1sr.duis.response import SMETS1Response
from s1sr.duis.safe_xml import parse_xml, read_document
from s1sr.duis.schema import DuisSchema, find_schema, load_schema
from s1sr.duis.signing import generated_credentials
from s1sr.errors import InputError
from s1sr.estate_state import StartingState
from s1sr.s1sp.rules import S1SPRules
from s1sr.s1sp.translator import Exchange, ReferenceS1SP
from s1sr.session import DCC_ID

HUB_IDS = {hub for _, hub, _ in ESTATE}
#: The meters of the estate's other HANs: addressed, they are found where they are, not placed on HAN-A.
OTHER_HAN_METERS = {meter for _, _, meter in ESTATE[1:]}
#: The ExecutionDateTime by which DUIS cancels a future-dated command (UTC; written with or without a zone).
CANCELLATION = datetime(3000, 12, 31)
#: Width of an EUI-64 in DUIS form: a device column never narrower, so no ID is cut.
EUI_WIDTH = 23


@dataclass
class Translation:
    """What ``translate`` reports for one request: the request, the device commands, the response."""

    path: str
    request: ServiceRequest
    dmc: str
    dmc_reason: str
    exchange: Exchange
    response: SMETS1Response
    response_xml: bytes
    schema: dict[str, Any] = field(default_factory=dict)
    #: Per device command, where each field's value came from as the harness finds it (request, catalogue).
    sources: list[dict[str, str]] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        """The response reports success and, when checked, is valid DUIS."""
        return self.response.success and self.schema.get("response_valid", True) is not False

    def _sources(self) -> list[dict[str, str]]:
        return self.sources or [{} for _ in self.exchange.commands]

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` document of this request."""
        return {
            "file": self.path,
            "srv": self.request.srv,
            "request_id": str(self.request.request_id),
            "dmc": self.dmc,
            "dmc_reason": self.dmc_reason,
            "device_commands": [
                {
                    "name": c.name,
                    "device_id": c.device_id,
                    "fields": c.as_dict()["fields"],
                    "annex_c": sorted(f for f, source in found.items() if source.startswith("Annex C")),
                    "sources": found,
                    "defaults": dict(c.defaults),
                    "reply": r.as_dict(),
                }
                for (c, r), found in zip(self.exchange.commands, self._sources(), strict=True)
            ],
            "response_code": self.response.response_code,
            "success": self.response.success,
            "values": dict(self.response.values),
            "outcomes": [o.__dict__ for o in self.response.outcomes],
            "schema": self.schema,
        }


@dataclass
class TranslationRun:
    """Several requests, in order, on one estate of one DMC."""

    dmc: str
    #: The meters the requests address (HAN-A's meter when they address only hubs): the state is theirs.
    meters: tuple[str, ...]
    state: StartingState
    #: The certificate that verifies the S1SP's signature on every response (``--cert-out``).
    certificate_pem: bytes = b""
    translations: list[Translation] = field(default_factory=list)

    def documents(self) -> list[dict[str, Any]]:
        """The ``--json`` document of each request, with the starting state it ran from."""
        return [{**t.as_dict(), "starting_state": dict(self.state.values)} for t in self.translations]

    @property
    def exit_code(self) -> int:
        """0 when every response reports success (and is valid DUIS when checked), else 1."""
        return 0 if all(t.succeeded for t in self.translations) else 1


@dataclass(frozen=True)
class _Read:
    path: Path
    request: ServiceRequest
    choice: DmcChoice
    request_valid: bool | None


def translate_file(path: Path, dmc_name: str | None, version: str, xsd: str | None) -> Translation:
    """Read, translate and answer one request on a fresh estate; :class:`InputError` for anything unusable."""
    return translate_files([path], dmc_name, version, xsd).translations[0]


def translate_files(
    paths: list[Path],
    dmc_name: str | None,
    version: str,
    xsd: str | None,
    state: StartingState | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
) -> TranslationRun:
    """Check every request, then send them in order through the reference S1SP to one estate."""
    catalogue = load_catalogue(version)
    setting = find_schema(xsd)
    schema = load_schema(setting.path) if setting.path is not None else None
    reads = [_read(path, schema, dmc_name) for path in paths]
    dmc = find_dmc(_one_dmc(reads))
    addressed = _addressed_meters([r.request for r in reads])
    on_han_a = tuple(m for m in addressed if m not in OTHER_HAN_METERS)
    adapter = SimulatedAdapter(dmc, meter_ids=on_han_a or None)
    meters = addressed or (ESTATE[0][2],)  # requests to hubs only: the state goes to HAN-A's meter
    starting = state or StartingState()
    if starting:
        activation, _ = S1SPRules.from_catalogue(catalogue, dmc).default("11.1", "TransferFirmware", "activation")
        starting.apply(adapter, meters, activation, timeout_s)
    s1sp = ReferenceS1SP(catalogue, dmc, adapter, timeout_s)
    credentials = generated_credentials()
    run = TranslationRun(dmc.id, meters, starting, credentials.cert_pem)
    for read in reads:
        try:
            exchange = s1sp.handle(read.request)
        except DeviceError as exc:
            raise InputError(
                str(exc), str(read.path), "address a device of the simulated estate (see README)"
            ) from None
        response_xml = exchange.response_xml(credentials)
        report: dict[str, Any] = {"xsd": str(setting.path) if setting.path else None}
        if schema is not None:
            problems = schema.problems(parse_xml(response_xml, "response"))
            report["request_valid"] = read.request_valid
            report["response_valid"] = not problems
            report["response_problems"] = [str(p) for p in problems]
        run.translations.append(
            Translation(
                str(read.path),
                read.request,
                dmc.id,
                read.choice.reason,
                exchange,
                exchange.answer(),
                response_xml,
                report,
                [
                    {
                        f.field: f.describe()
                        for f in command_sources(catalogue, read.request.srv, c.name, dict(c.fields), dict(c.defaults))
                    }
                    for c, _ in exchange.commands
                ],
            )
        )
    return run


def _read(path: Path, schema: DuisSchema | None, dmc_name: str | None) -> _Read:
    """One request, read and checked: schema, the S1SP's reading, not future-dated; its DMC."""
    root = parse_xml(read_document(path), str(path))
    valid: bool | None = None
    if schema is not None:
        problems = schema.problems(root)
        if problems:
            raise InputError(f"not valid DUIS: {problems[0]}", str(path), "fix the request or check --xsd")
        valid = True
    request = parse_request(root, str(path))
    refuse_future_dated(request, str(path))
    return _Read(path, request, choose_dmc(request, dmc_name), valid)


def refuse_future_dated(request: ServiceRequest, where: str) -> None:
    """One line for a request carrying ``ExecutionDateTime``: translate executes on demand only."""
    when = getattr(request.body, "execution_datetime", None)
    if when is None:
        return
    stamp = when.isoformat().replace("+00:00", "Z")
    if when.replace(tzinfo=None) == CANCELLATION and when.utcoffset() in (None, timedelta(0)):
        what = f"ExecutionDateTime {stamp} cancels a future-dated SRV {request.srv} command"
    else:
        what = f"ExecutionDateTime {stamp} makes this a future-dated SRV {request.srv} request"
    raise InputError(
        f"{what}; translate executes requests on demand and does not hold or schedule them",
        where,
        "remove sr:ExecutionDateTime to execute it now",
    )


def _one_dmc(reads: list[_Read]) -> str:
    """The DMC every request runs on: one estate is one DMC, so requests for both fuels are refused."""
    chosen = {r.choice.dmc for r in reads}
    if len(chosen) > 1:
        first = reads[0]
        other = next(r for r in reads if r.choice.dmc != first.choice.dmc)
        raise InputError(
            f"{first.path.name} runs on {first.choice.dmc} ({first.choice.reason}) but {other.path.name} on "
            f"{other.choice.dmc} ({other.choice.reason}); one estate is one DMC",
            "translate",
            "translate them separately, or name one DMC with --dmc",
        )
    return chosen.pop()


def _addressed_meters(requests: list[ServiceRequest]) -> tuple[str, ...]:
    """The meters the requests name, in order of first mention (those not of the estate go on HAN-A)."""
    found: list[str] = []
    for request in requests:
        if isinstance(request.body, UpdateFirmware):
            named: tuple[str, ...] = request.body.device_ids
        elif request.target in HUB_IDS or request.target == DCC_ID:
            named = ()
        else:
            named = (request.target,)
        for device in named:
            if device not in HUB_IDS and device not in found:
                found.append(device)
    return tuple(found)


def render_run(run: TranslationRun, console: Console) -> None:
    """Every request's tables, then (for several) one line per request."""
    if run.state:
        shown = ", ".join(f"{k}={json.dumps(v)}" for k, v in run.state.values.items())
        console.print(f"Starting state of {', '.join(run.meters)}: {shown}", markup=False)
    for index, result in enumerate(run.translations, start=1):
        if len(run.translations) > 1:
            console.print(f"\n[{index}/{len(run.translations)}] {result.path}", markup=False, style="bold")
        render_translation(result, console)
    if len(run.translations) > 1:
        good = sum(1 for t in run.translations if t.succeeded)
        console.print(
            f"\n{len(run.translations)} requests on {run.dmc}: {good} success, {len(run.translations) - good} failure",
            markup=False,
        )


def render_translation(result: Translation, console: Console) -> None:
    """Tables for people: device commands (Annex C fields marked) and the response."""
    console.print(
        f"SRV {result.request.srv}  {result.request.request_id}  on {result.dmc} ({result.dmc_reason})",
        markup=False,
        style="bold",
    )
    table = Table(
        title="Device commands (* = Annex C value, as the catalogue and the request show; + = labelled by the S1SP)",
        box=box.SIMPLE_HEAD,
    )
    table.add_column("command", no_wrap=True)
    table.add_column("device", no_wrap=True, min_width=EUI_WIDTH)
    table.add_column("fields -> device reply", overflow="fold")
    for (command, reply), found in zip(result.exchange.commands, result._sources(), strict=True):
        shown = []
        for name, value in command.as_dict()["fields"].items():
            mark = "*" if found.get(name, "").startswith("Annex C") else ("+" if name in command.defaults else "")
            shown.append(f"{name}{mark}={json.dumps(value)}")
        shown.append("-> accepted" if reply.accepted else f"-> rejected: {reply.reason}")
        table.add_row(command.name, command.device_id, "\n".join(shown))
    console.print(table)
    response = result.response
    console.print(f"Response {response.response_code}: {'success' if response.success else 'FAILURE'}", markup=False)
    for key, value in response.values.items():
        console.print(f"  {key} = {value}", markup=False)
    for outcome in response.outcomes:
        console.print(f"  outcome {outcome.code} at {outcome.position}: {outcome.text}", markup=False)
    if result.schema.get("xsd"):
        valid = "valid" if result.schema.get("response_valid") else "INVALID"
        console.print(f"  response against the DUIS schema: {valid}", markup=False)
        for problem in result.schema.get("response_problems", []):
            console.print(f"    {problem}", markup=False)
