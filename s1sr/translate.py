"""``s1sr translate``: one DUIS request through the reference S1SP against a fresh simulated estate."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from s1sr.catalogue import find_dmc, load_catalogue
from s1sr.devices.adapter import DeviceError
from s1sr.devices.simulated import ESTATE, SimulatedAdapter
from s1sr.duis.request import ServiceRequest, UpdateFirmware, UpdatePrepayConfiguration, parse_request
from s1sr.duis.response import SMETS1Response, build_response
from s1sr.duis.safe_xml import parse_xml, read_document
from s1sr.duis.schema import find_schema, load_schema
from s1sr.duis.signing import generated_credentials
from s1sr.errors import InputError
from s1sr.s1sp.translator import Exchange, ReferenceS1SP
from s1sr.session import DCC_ID

HUB_IDS = {hub for _, hub, _ in ESTATE}


@dataclass
class Translation:
    """What ``translate`` reports: the request, the device commands, the response."""

    request: ServiceRequest
    dmc: str
    exchange: Exchange
    response: SMETS1Response
    response_xml: bytes
    schema: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` document."""
        return {
            "srv": self.request.srv,
            "request_id": str(self.request.request_id),
            "dmc": self.dmc,
            "device_commands": [
                {
                    "name": c.name,
                    "device_id": c.device_id,
                    "fields": c.as_dict()["fields"],
                    "annex_c": sorted(f for f, source in c.defaults.items() if source.startswith("Annex C")),
                    "defaults": dict(c.defaults),
                    "reply": r.as_dict(),
                }
                for c, r in self.exchange.commands
            ],
            "response_code": self.response.response_code,
            "success": self.response.success,
            "values": dict(self.response.values),
            "outcomes": [o.__dict__ for o in self.response.outcomes],
            "schema": self.schema,
        }


def _default_dmc(request: ServiceRequest) -> str:
    body = request.body
    if isinstance(body, UpdatePrepayConfiguration) and body.fuel == "gas":
        return "secure-gsme"
    return "secure-esme"


def _addressed_meters(request: ServiceRequest) -> tuple[str, ...]:
    """The meters the request names, placed on HAN-A of the simulated estate."""
    if isinstance(request.body, UpdateFirmware):
        return tuple(d for d in request.body.device_ids if d not in HUB_IDS)
    if request.target in HUB_IDS or request.target == DCC_ID:
        return ()
    return (request.target,)


def translate_file(path: Path, dmc_name: str | None, version: str, xsd: str | None) -> Translation:
    """Read, translate and answer one request; :class:`InputError` for anything unusable."""
    catalogue = load_catalogue(version)
    setting = find_schema(xsd)
    schema = load_schema(setting.path) if setting.path is not None else None
    root = parse_xml(read_document(path), str(path))
    report: dict[str, Any] = {"xsd": str(setting.path) if setting.path else None}
    if schema is not None:
        problems = schema.problems(root)
        report["request_valid"] = not problems
        if problems:
            raise InputError(f"not valid DUIS: {problems[0]}", str(path), "fix the request or check --xsd")
    request = parse_request(root, str(path))
    dmc = find_dmc(dmc_name or _default_dmc(request))
    adapter = SimulatedAdapter(dmc, meter_ids=_addressed_meters(request) or None)
    s1sp = ReferenceS1SP(catalogue, dmc, adapter)
    try:
        exchange = s1sp.handle(request)
    except DeviceError as exc:
        raise InputError(str(exc), str(path), "address a device of the simulated estate (see README)") from None
    assert exchange.response is not None
    response_xml = build_response(exchange.response, generated_credentials())
    if schema is not None:
        problems = schema.problems(parse_xml(response_xml, "response"))
        report["response_valid"] = not problems
        report["response_problems"] = [str(p) for p in problems]
    return Translation(request, dmc.id, exchange, exchange.response, response_xml, report)


def render_translation(result: Translation, console: Console) -> None:
    """Tables for people: device commands (Annex C fields marked) and the response."""
    console.print(f"SRV {result.request.srv}  {result.request.request_id}  on {result.dmc}", markup=False, style="bold")
    table = Table(title="Device commands (* = value from Annex C, + = S1SP built-in default)")
    for column in ("command", "device", "fields", "device reply"):
        table.add_column(column)
    for command, reply in result.exchange.commands:
        shown = []
        for name, value in command.as_dict()["fields"].items():
            source = command.defaults.get(name, "")
            mark = "*" if source.startswith("Annex C") else ("+" if source else "")
            shown.append(f"{name}{mark}={json.dumps(value)}")
        verdict = "accepted" if reply.accepted else f"rejected: {reply.reason}"
        table.add_row(command.name, command.device_id, "\n".join(shown) or "-", verdict)
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
