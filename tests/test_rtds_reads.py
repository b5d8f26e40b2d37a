"""Every RTDS template of the reads (SRV 4.1.1, 4.2, 4.8.1, 4.8.3, 4.10, 4.17) through ``s1sr translate``.

Each runs on a fresh simulated estate of the DMC its target device decides (``-A0`` an ESME;
``-A1`` a GSME and ``-A3`` the GPF that stands for one): the device command it becomes, the
values of its signed SMETS1 Response, and that response against the official DUIS schema, all
literal. The estate has recorded nothing, so the registers read 0 and the logs hold no entry.
The one future-dated template gets what translate gives every future-dated request: one line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from s1sr.duis.response import Value, parse_response
from s1sr.duis.safe_xml import parse_xml
from s1sr.duis.schema import DuisSchema
from s1sr.errors import InputError
from s1sr.translate import translate_files
from tests.conftest import RTDS

ESME = "00-DB-12-34-56-78-90-A0"
GSME = "00-DB-12-34-56-78-90-A1"
GPF = "00-DB-12-34-56-78-90-A3"
NETWORK_ESME = "Electricity/SinglePhaseESME/"
ESME_NETWORK_DATA: dict[str, Value] = {
    f"{NETWORK_ESME}AvgRMSOverVoltageCounter/Value": 0,
    f"{NETWORK_ESME}AvgRMSUnderVoltageCounter/Value": 0,
    f"{NETWORK_ESME}AvgRMSVoltageProfileDataLog/MeasurementPeriod": 1800,
}
ESME_IMPORT: dict[str, Value] = {
    "Electricity/ActiveImportRegister/Value": 0,
    "Electricity/ActiveImportRegister/ActiveEnergyUnit": "Wh",
}
GSME_IMPORT: dict[str, Value] = {"Gas/ConsumptionRegister/Value": "0.000", "Gas/ConsumptionRegister/Unit": "m3"}

#: Template -> (DMC, the one device command (name, device, fields), the response's payload values).
EXPECTED: dict[str, tuple[str, tuple[str, str, dict[str, Any]], dict[str, Value]]] = {
    "ECS17a_4.2_SUCCESS_REQUEST_DUIS.XML": (
        "secure-esme",
        ("ReadExportRegister", ESME, {}),
        {"ActiveExportRegister/Value": 0, "ActiveExportRegister/ActiveEnergyUnit": "Wh"},
    ),
    "ECS17b_4.1.1_REQUEST_DUIS.XML": ("secure-esme", ("ReadImportRegister", ESME, {}), ESME_IMPORT),
    "ECS17b_4.1.1_SINGLE_SUCCESS_REQUEST_DUIS.XML": ("secure-esme", ("ReadImportRegister", ESME, {}), ESME_IMPORT),
    "ECS17b_4.1.1_TWIN_SUCCESS_REQUEST_DUIS.XML": ("secure-esme", ("ReadImportRegister", ESME, {}), ESME_IMPORT),
    "ECS22a_4.8.3_SUCCESS_REQUEST_DUIS.XML": (
        "secure-esme",
        (
            "ReadProfileData",
            ESME,
            {"profile": "export", "start": "2014-10-01T09:30:00Z", "end": "2014-10-02T09:30:00Z"},
        ),
        {},
    ),
    "ECS22b_4.8.1_SINGLE_SUCCESS_REQUEST_DUIS.XML": (
        "secure-esme",
        (
            "ReadProfileData",
            ESME,
            {"profile": "active-import", "start": "2014-12-31T00:00:00Z", "end": "2015-01-01T00:00:00Z"},
        ),
        {},
    ),
    "ECS22b_4.8.1_TWIN_SUCCESS_REQUEST_DUIS.XML": (
        "secure-esme",
        (
            "ReadProfileData",
            ESME,
            {"profile": "active-import", "start": "2014-12-31T00:00:00Z", "end": "2015-01-01T00:00:00Z"},
        ),
        {},
    ),
    "ECS23_4.10_SUCCESS_REQUEST_DUIS.XML": (
        "secure-esme",
        ("ReadNetworkData", ESME, {"start": "2014-12-29T23:59:00Z", "end": "2015-01-01T00:00:00Z"}),
        ESME_NETWORK_DATA,
    ),
    "ECS23b_4.10_SUCCESS_REQUEST_DUIS.XML": (
        "secure-esme",
        ("ReadNetworkData", ESME, {"start": "2014-12-29T23:59:00Z", "end": "2015-01-01T00:00:00Z"}),
        ESME_NETWORK_DATA,
    ),
    "ECS66_4.17_SUCCESS_REQUEST_DUIS.XML": (
        "secure-esme",
        ("ReadDailyConsumptionLog", ESME, {"start": "2014-12-01T09:00:00Z", "end": "2014-12-05T11:05:00Z"}),
        {"Electricity": ""},
    ),
    "GCS13a_4.1.1_SUCCESS_RELIABLE_GPF_REQUEST_DUIS.XML": ("secure-gsme", ("ReadImportRegister", GPF, {}), GSME_IMPORT),
    "GCS13a_4.1.1_SUCCESS_RELIABLE_GSME_REQUEST_DUIS.XML": (
        "secure-gsme",
        ("ReadImportRegister", GPF, {}),
        GSME_IMPORT,
    ),
    "GCS13a_4.1.1_SUCCESS_UNRELIABLE_REQUEST_DUIS.XML": ("secure-gsme", ("ReadImportRegister", GSME, {}), GSME_IMPORT),
    "GCS17_4.8.1_SUCCESS_REQUEST_DUIS.XML": (
        "secure-gsme",
        (
            "ReadProfileData",
            GSME,
            {"profile": "active-import", "start": "2014-12-30T00:00:00Z", "end": "2015-01-01T00:00:00Z"},
        ),
        {},
    ),
    "GCS18_4.10_SUCCESS_REQUEST_DUIS.XML": (
        "secure-gsme",
        ("ReadNetworkData", GSME, {"start": "2014-12-31T20:00:00Z", "end": "2015-01-01T00:00:00Z"}),
        {"Gas/NetworkDataLog": ""},
    ),
    "GCS61_4.17_SUCCESS_REQUEST_DUIS.XML": (
        "secure-gsme",
        ("ReadDailyConsumptionLog", GPF, {"start": "2014-12-10T00:00:00Z", "end": "2014-12-20T00:00:00Z"}),
        {"Gas": ""},
    ),
}
FUTURE_DATED = "ECS17b_4.1.1_DSP_FUTURE_DATED_REQUEST_DUIS.XML"
#: The template families of the reads, as issue 12 names them.
FAMILIES = (
    "ECS17b_4.1.1_",
    "GCS13a_4.1.1_",
    "ECS17a_4.2_",
    "ECS22b_4.8.1_",
    "GCS17_4.8.1_",
    "ECS22a_4.8.3_",
    "ECS23_4.10_",
    "ECS23b_4.10_",
    "GCS18_4.10_",
    "ECS66_4.17_",
    "GCS61_4.17_",
)


def test_the_templates_listed_are_every_one_of_the_reads_families(rtds_files: list[Path]) -> None:
    found = sorted(p.name for p in rtds_files if p.name.startswith(FAMILIES))
    assert found == sorted([*EXPECTED, FUTURE_DATED])
    assert len(found) == 17


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_template_translates_to_a_valid_signed_response(duis_schema: DuisSchema, name: str) -> None:
    dmc, (command, device, fields), values = EXPECTED[name]
    run = translate_files([RTDS / name], None, "4.3", str(duis_schema.path))
    (result,) = run.translations
    assert result.dmc == dmc
    assert [(c.name, c.device_id, dict(c.fields)) for c, _ in result.exchange.commands] == [(command, device, fields)]
    assert [r.accepted for _, r in result.exchange.commands] == [True]
    assert result.schema["request_valid"] is True
    assert (result.schema["response_valid"], result.schema["response_problems"]) == (True, [])
    read = parse_response(parse_xml(result.response_xml), run.certificate_pem)
    assert (read.signature.valid, read.signature.reason) == (True, "ECDSA P-256/SHA-256 signature verifies")
    assert read.response.request_id == result.request.request_id
    assert read.signed_header is not None
    assert (read.signed_header.originator, read.signed_header.target, read.signed_header.srv) == (
        result.request.target,
        result.request.request_id.originator,
        result.request.srv,
    )
    assert (read.response.response_code, read.response.success, read.response.values) == ("I0", True, values)
    assert run.exit_code == 0


def test_the_future_dated_template_gets_one_line_and_nothing_is_sent(duis_schema: DuisSchema) -> None:
    with pytest.raises(InputError) as raised:
        translate_files([RTDS / FUTURE_DATED], None, "4.3", str(duis_schema.path))
    assert raised.value.line() == (
        f"{RTDS / FUTURE_DATED}: ExecutionDateTime 2015-01-15T09:00:00Z makes this a future-dated SRV 4.1.1 request; "
        "translate executes requests on demand and does not hold or schedule them; "
        "remove sr:ExecutionDateTime to execute it now"
    )
