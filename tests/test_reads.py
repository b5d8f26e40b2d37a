"""The reads behind half-hourly settlement (SRV 4.1.1, 4.2, 4.8.1, 4.8.3, 4.10, 4.17), end to end.

A test puts recorded data on a simulated meter with the harness's own commands, then reads it
back as a User through the reference S1SP in process: every request and response is checked
against the official DUIS schema (S1SR_DUIS_XSD), every response's signature is verified, and
every expected value is written here literally. Which entries a ReadLogPeriod holds (reading of
:mod:`s1sr.s1sp.reads`): those starting at or after its start and *before* its end.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from s1sr.catalogue import find_dmc, load_catalogue
from s1sr.devices.adapter import AdapterContractError, DeviceAdapter
from s1sr.devices.commands import DeviceCommand, DeviceReply
from s1sr.devices.recording import RecordingAdapter
from s1sr.devices.remote import RemoteAdapter
from s1sr.devices.server import make_server
from s1sr.devices.simulated import SimulatedAdapter
from s1sr.duis.request import (
    SRV_BODIES,
    ReadActiveImportProfileData,
    ReadExportProfileData,
    ReadInstantaneousExportRegisters,
    ReadInstantaneousImportRegisters,
    ReadLogPeriod,
    ReadNetworkData,
    RequestBody,
    RequestId,
    RetrieveDailyConsumptionLog,
    ServiceRequest,
    XsDateTime,
    build_request,
    parse_request,
)
from s1sr.duis.response import SMETS1Response, Value, build_response, log_entries, parse_response
from s1sr.duis.safe_xml import parse_xml
from s1sr.duis.schema import DuisSchema
from s1sr.duis.signing import generated_credentials
from s1sr.errors import InputError
from s1sr.s1sp.reads import device_time
from s1sr.s1sp.translator import ReferenceS1SP
from s1sr.session import UserSession
from tests.conftest import s1sr

METER = "00-DB-12-34-56-78-90-A0"
#: DCC Boxed's supplier (Import and Gas Supplier), the User the harness sends as.
SUPPLIER = "90-B3-D5-1F-30-01-00-00"
#: DCC Boxed's networkOperator (an Electricity Distributor), eligible for 4.2 and 4.8.3 as the RTDS requests send them.
DISTRIBUTOR = "90-B3-D5-1F-30-02-00-00"
DAY = ReadLogPeriod.of("2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z")


def _session(dmc_id: str, schema: DuisSchema, inner: DeviceAdapter | None = None) -> UserSession:
    dmc = find_dmc(dmc_id)
    adapter = RecordingAdapter(inner or SimulatedAdapter(dmc))
    adapter.reset()
    credentials = generated_credentials()
    s1sp = ReferenceS1SP(load_catalogue("4.3"), dmc, adapter, credentials=credentials)
    return UserSession(s1sp, adapter, dmc, credentials, schema)


@pytest.fixture
def esme(duis_schema: DuisSchema) -> UserSession:
    return _session("secure-esme", duis_schema)


@pytest.fixture
def gsme(duis_schema: DuisSchema) -> UserSession:
    return _session("secure-gsme", duis_schema)


def _record(user: UserSession, name: str, **fields: Any) -> None:
    reply = user.adapter.execute(DeviceCommand(name, METER, fields))
    assert reply.accepted, reply.reason


def _half_hours(*pairs: tuple[str, int]) -> list[dict[str, Any]]:
    return [{"start": start, "value": value} for start, value in pairs]


def _read(user: UserSession, srv: str, body: RequestBody) -> SMETS1Response:
    """One read as the User; the response was schema-checked and its signature verified by the session."""
    response = user.send(srv, body, METER)
    assert response is not None, user.evidence[-1].refused
    record = user.evidence[-1]
    assert (record.request_schema, record.response_schema) == ("valid", "valid")
    assert record.signature == "ECDSA P-256/SHA-256 signature verifies"
    assert record.correlation == "matches the request"
    return response


def _sent(user: UserSession) -> list[tuple[str, dict[str, Any]]]:
    return [(command.name, dict(command.fields)) for command, _ in user.commands_sent()]


# --- 4.8.1: half-hour import values ------------------------------------------------------


def test_recorded_half_hours_are_read_back_in_wh_and_the_read_changes_nothing(esme: UserSession) -> None:
    _record(
        esme,
        "RecordHalfHours",
        profile="active-import",
        unit="Wh",
        entries=_half_hours(
            ("2026-10-31T23:30:00Z", 99),
            ("2026-11-01T00:00:00Z", 120),
            ("2026-11-01T00:30:00Z", 0),
            ("2026-11-01T23:30:00Z", 275),
            ("2026-11-02T00:00:00Z", 88),
        ),
    )
    response = _read(esme, "4.8.1", ReadActiveImportProfileData(DAY))
    assert response.success
    assert response.values == {
        "LogEntry[1]/Timestamp": "2026-11-01T00:00:00Z",
        "LogEntry[1]/Electricity/PrimaryValue": 120,
        "LogEntry[2]/Timestamp": "2026-11-01T00:30:00Z",
        "LogEntry[2]/Electricity/PrimaryValue": 0,
        "LogEntry[3]/Timestamp": "2026-11-01T23:30:00Z",
        "LogEntry[3]/Electricity/PrimaryValue": 275,
    }
    assert _sent(esme) == [
        (
            "ReadProfileData",
            {"profile": "active-import", "start": "2026-11-01T00:00:00Z", "end": "2026-11-02T00:00:00Z"},
        )
    ]
    assert esme.state_before_last == esme.state_after_last


def test_a_half_hour_not_recorded_is_absent_not_zero(esme: UserSession) -> None:
    _record(
        esme, "RecordHalfHours", profile="active-import", unit="Wh", entries=_half_hours(("2026-11-01T12:00:00Z", 7))
    )
    response = _read(esme, "4.8.1", ReadActiveImportProfileData(DAY))
    assert response.values == {
        "LogEntry[1]/Timestamp": "2026-11-01T12:00:00Z",
        "LogEntry[1]/Electricity/PrimaryValue": 7,
    }


def test_a_gas_meter_answers_in_m3_with_three_decimals(gsme: UserSession) -> None:
    _record(
        gsme,
        "RecordHalfHours",
        profile="active-import",
        unit="dm3",
        entries=_half_hours(("2026-11-01T06:00:00Z", 125), ("2026-11-01T06:30:00Z", 1500), ("2026-11-01T07:00:00Z", 0)),
    )
    response = _read(gsme, "4.8.1", ReadActiveImportProfileData(DAY))
    assert response.values == {
        "LogEntry[1]/Timestamp": "2026-11-01T06:00:00Z",
        "LogEntry[1]/Gas/PrimaryValue": "0.125",
        "LogEntry[2]/Timestamp": "2026-11-01T06:30:00Z",
        "LogEntry[2]/Gas/PrimaryValue": "1.500",
        "LogEntry[3]/Timestamp": "2026-11-01T07:00:00Z",
        "LogEntry[3]/Gas/PrimaryValue": "0.000",
    }


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # An empty period asks for nothing, even where a half hour starts.
        ("2026-11-01T00:30:00Z", "2026-11-01T00:30:00Z", []),
        # The end is exclusive: a period ending exactly where a half hour starts leaves it out ...
        ("2026-11-01T00:00:00Z", "2026-11-01T01:00:00Z", ["2026-11-01T00:00:00Z", "2026-11-01T00:30:00Z"]),
        # ... and one second more takes it in; the start is inclusive.
        (
            "2026-11-01T00:00:00Z",
            "2026-11-01T01:00:01Z",
            ["2026-11-01T00:00:00Z", "2026-11-01T00:30:00Z", "2026-11-01T01:00:00Z"],
        ),
        # One entry: the period of one half hour.
        ("2026-11-01T00:30:00Z", "2026-11-01T01:00:00Z", ["2026-11-01T00:30:00Z"]),
        # A millionth of a second after a half-hour start leaves that start out, and takes the next in.
        (
            "2026-11-01T00:00:00.000001Z",
            "2026-11-01T01:00:00.000001Z",
            ["2026-11-01T00:30:00Z", "2026-11-01T01:00:00Z"],
        ),
        # The same instants written in another zone, and 24:00:00 for the end of a day.
        ("2026-11-01T01:00:00+01:00", "2026-10-31T24:00:00-01:00", ["2026-11-01T00:00:00Z", "2026-11-01T00:30:00Z"]),
    ],
)
def test_which_half_hours_a_period_holds(esme: UserSession, start: str, end: str, expected: list[str]) -> None:
    _record(
        esme,
        "RecordHalfHours",
        profile="active-import",
        unit="Wh",
        entries=_half_hours(("2026-11-01T00:00:00Z", 1), ("2026-11-01T00:30:00Z", 2), ("2026-11-01T01:00:00Z", 3)),
    )
    response = _read(esme, "4.8.1", ReadActiveImportProfileData(ReadLogPeriod.of(start, end)))
    assert [entry["Timestamp"] for entry in log_entries(response.values)] == expected


def test_a_day_holds_48_half_hours(esme: UserSession) -> None:
    day = [(XsDateTime(1_793_491_200 + n * 1800).text(), n) for n in range(49)]  # 2026-11-01T00:00Z to the next 00:00
    assert (day[0][0], day[48][0]) == ("2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z")
    _record(esme, "RecordHalfHours", profile="active-import", unit="Wh", entries=_half_hours(*day))
    entries = log_entries(_read(esme, "4.8.1", ReadActiveImportProfileData(DAY)).values)
    assert len(entries) == 48
    assert entries[0] == {"Timestamp": "2026-11-01T00:00:00Z", "Electricity/PrimaryValue": 0}
    assert entries[47] == {"Timestamp": "2026-11-01T23:30:00Z", "Electricity/PrimaryValue": 47}


def test_the_most_the_schema_allows_19056_half_hours_in_one_valid_signed_response(esme: UserSession) -> None:
    # 19,057 recorded: the meter's log, like the MMC's maxOccurs, holds 19,056, so the oldest is gone.
    recorded = [(XsDateTime(1_767_225_600 + n * 1800).text(), n % 1000) for n in range(19_057)]
    assert (recorded[0][0], recorded[-1][0]) == ("2026-01-01T00:00:00Z", "2027-02-02T00:00:00Z")
    _record(esme, "RecordHalfHours", profile="active-import", unit="Wh", entries=_half_hours(*recorded))
    everything = ReadLogPeriod.of("0001-01-01T00:00:00Z", "99999-12-31T23:59:59Z")
    entries = log_entries(_read(esme, "4.8.1", ReadActiveImportProfileData(everything)).values)
    assert len(entries) == 19_056
    assert entries[0] == {"Timestamp": "2026-01-01T00:30:00Z", "Electricity/PrimaryValue": 1}
    assert entries[-1] == {"Timestamp": "2027-02-02T00:00:00Z", "Electricity/PrimaryValue": 56}
    assert _sent(esme)[0][1] == {
        "profile": "active-import",
        "start": "0001-01-01T00:00:00Z",
        "end": "9999-12-31T23:59:59Z",
    }


def test_a_period_that_ends_before_it_starts_is_refused_in_one_line_before_any_device_command(
    esme: UserSession,
) -> None:
    backwards = ReadLogPeriod.of("2026-11-02T00:00:00Z", "2026-11-01T23:59:59.999Z")
    assert esme.send("4.8.1", ReadActiveImportProfileData(backwards), METER) is None
    assert esme.last_refusal is not None
    assert esme.last_refusal.line() == (
        "request: sr:Body/sr:ReadActiveImportProfileData: ReadLogPeriod ends (2026-11-01T23:59:59.999Z) before it "
        "starts (2026-11-02T00:00:00Z); give an EndDateTime at or after the StartDateTime"
    )
    assert esme.commands_sent() == []


# --- 4.8.3, 4.1.1, 4.2, 4.10, 4.17 ---------------------------------------------------------


def test_export_half_hours_are_read_back(esme: UserSession) -> None:
    esme.user_id = DISTRIBUTOR
    _record(esme, "RecordHalfHours", profile="export", unit="Wh", entries=_half_hours(("2026-11-01T12:30:00Z", 640)))
    response = _read(esme, "4.8.3", ReadExportProfileData(DAY))
    assert response.values == {
        "LogEntry[1]/ActiveEnergyExportedValue": 640,
        "LogEntry[1]/Timestamp": "2026-11-01T12:30:00Z",
    }
    assert _sent(esme) == [
        ("ReadProfileData", {"profile": "export", "start": "2026-11-01T00:00:00Z", "end": "2026-11-02T00:00:00Z"})
    ]


def test_the_registers_are_read_back(esme: UserSession, gsme: UserSession) -> None:
    _record(esme, "SetRegister", register="import", unit="Wh", value=123456)
    _record(esme, "SetRegister", register="export", unit="Wh", value=789)
    assert _read(esme, "4.1.1", ReadInstantaneousImportRegisters()).values == {
        "Electricity/ActiveImportRegister/Value": 123456,
        "Electricity/ActiveImportRegister/ActiveEnergyUnit": "Wh",
    }
    esme.user_id = DISTRIBUTOR
    assert _read(esme, "4.2", ReadInstantaneousExportRegisters()).values == {
        "ActiveExportRegister/Value": 789,
        "ActiveExportRegister/ActiveEnergyUnit": "Wh",
    }
    _record(gsme, "SetRegister", register="import", unit="dm3", value=1234567)
    assert _read(gsme, "4.1.1", ReadInstantaneousImportRegisters()).values == {
        "Gas/ConsumptionRegister/Value": "1234.567",
        "Gas/ConsumptionRegister/Unit": "m3",
    }


def test_an_esme_s_network_data_is_its_rms_voltage_profile_and_counters(esme: UserSession) -> None:
    _record(
        esme,
        "RecordNetworkData",
        unit="dV",
        entries=_half_hours(("2026-11-01T10:00:00Z", 2410), ("2026-11-01T10:30:00Z", 2395)),
    )
    _record(esme, "SetVoltageCounters", over_voltage_count=3, under_voltage_count=1)
    response = _read(esme, "4.10", ReadNetworkData(DAY))
    esme_data = "Electricity/SinglePhaseESME/"
    assert response.values == {
        f"{esme_data}AvgRMSOverVoltageCounter/Value": 3,
        f"{esme_data}AvgRMSUnderVoltageCounter/Value": 1,
        f"{esme_data}AvgRMSVoltageProfileDataLog/LogEntry[1]/Value": "241.0",
        f"{esme_data}AvgRMSVoltageProfileDataLog/LogEntry[1]/Timestamp": "2026-11-01T10:00:00Z",
        f"{esme_data}AvgRMSVoltageProfileDataLog/LogEntry[2]/Value": "239.5",
        f"{esme_data}AvgRMSVoltageProfileDataLog/LogEntry[2]/Timestamp": "2026-11-01T10:30:00Z",
        f"{esme_data}AvgRMSVoltageProfileDataLog/MeasurementPeriod": 1800,
    }


def test_a_gsme_s_network_data_is_its_network_data_log(gsme: UserSession) -> None:
    assert _read(gsme, "4.10", ReadNetworkData(DAY)).values == {"Gas/NetworkDataLog": ""}
    _record(gsme, "RecordNetworkData", unit="dm3", entries=_half_hours(("2026-11-01T06:00:07Z", 2395)))
    assert _read(gsme, "4.10", ReadNetworkData(DAY)).values == {
        "Gas/NetworkDataLog/LogEntry[1]/Value": "2.395",
        "Gas/NetworkDataLog/LogEntry[1]/Timestamp": "2026-11-01T06:00:07Z",
    }


def test_the_daily_consumption_log_is_read_by_day_start(esme: UserSession, gsme: UserSession) -> None:
    week = ReadLogPeriod.of("2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z")
    assert _read(esme, "4.17", RetrieveDailyConsumptionLog(week)).values == {"Electricity": ""}
    days = _half_hours(
        ("2026-10-31T00:00:00Z", 9),
        ("2026-11-01T00:00:00Z", 8000),
        ("2026-11-02T00:00:00Z", 7500),
        ("2026-11-03T00:00:00Z", 1),
    )
    _record(esme, "RecordDailyConsumption", unit="Wh", entries=days)
    assert _read(esme, "4.17", RetrieveDailyConsumptionLog(week)).values == {
        "Electricity/LogEntry[1]/Value": 8000,
        "Electricity/LogEntry[1]/Timestamp": "2026-11-01T00:00:00Z",
        "Electricity/LogEntry[2]/Value": 7500,
        "Electricity/LogEntry[2]/Timestamp": "2026-11-02T00:00:00Z",
    }
    _record(gsme, "RecordDailyConsumption", unit="dm3", entries=_half_hours(("2026-11-02T00:00:00Z", 3250)))
    assert _read(gsme, "4.17", RetrieveDailyConsumptionLog(week)).values == {
        "Gas/LogEntry[1]/Value": "3.250",
        "Gas/LogEntry[1]/Timestamp": "2026-11-02T00:00:00Z",
    }


def test_every_read_leaves_the_meter_as_it_was(esme: UserSession) -> None:
    _record(
        esme, "RecordHalfHours", profile="active-import", unit="Wh", entries=_half_hours(("2026-11-01T00:00:00Z", 5))
    )
    _record(esme, "RecordDailyConsumption", unit="Wh", entries=_half_hours(("2026-11-01T00:00:00Z", 50)))
    before = esme.adapter.snapshot()
    for srv, body, user in (
        ("4.1.1", ReadInstantaneousImportRegisters(), None),
        ("4.2", ReadInstantaneousExportRegisters(), DISTRIBUTOR),
        ("4.8.1", ReadActiveImportProfileData(DAY), None),
        ("4.8.3", ReadExportProfileData(DAY), DISTRIBUTOR),
        ("4.10", ReadNetworkData(DAY), None),
        ("4.17", RetrieveDailyConsumptionLog(DAY), None),
    ):
        esme.user_id = user or SUPPLIER
        assert _read(esme, srv, body).success, srv
    assert esme.adapter.snapshot() == before
    assert json.loads(json.dumps(before)) == before  # the snapshot is JSON as it is


# --- the meter: what it takes, what it refuses ----------------------------------------------


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        (
            {"profile": "active-import", "unit": "Wh", "entries": _half_hours(("2026-11-01T00:15:00Z", 5))},
            "secure-esme cannot record entry 1 ({'start': '2026-11-01T00:15:00Z', 'value': 5}) in its active-import "
            "log: it takes the start of a half hour (UTC, YYYY-MM-DDThh:mm:ssZ) and a whole number of 0 or more",
        ),
        (
            {
                "profile": "active-import",
                "unit": "Wh",
                "entries": _half_hours(("2026-11-01T00:00:00Z", 5), ("2026-11-01T00:30:00Z", -1)),
            },
            "secure-esme cannot record entry 2 ({'start': '2026-11-01T00:30:00Z', 'value': -1}) in its active-import "
            "log: it takes the start of a half hour (UTC, YYYY-MM-DDThh:mm:ssZ) and a whole number of 0 or more",
        ),
        (
            {"profile": "active-import", "unit": "dm3", "entries": []},
            "secure-esme records its active-import log in Wh, not 'dm3'",
        ),
        (
            {"profile": "reactive", "unit": "Wh", "entries": []},
            "secure-esme has no profile 'reactive' (profiles: active-import, export)",
        ),
    ],
)
def test_the_meter_refuses_what_it_cannot_record_and_keeps_nothing_of_it(fields: dict[str, Any], reason: str) -> None:
    adapter = SimulatedAdapter(find_dmc("secure-esme"))
    before = adapter.snapshot()
    reply = adapter.execute(DeviceCommand("RecordHalfHours", METER, fields))
    assert (reply.accepted, reply.reason) == (False, reason)
    assert adapter.snapshot() == before


def test_a_gsme_has_no_export_and_measures_no_voltage() -> None:
    adapter = SimulatedAdapter(find_dmc("secure-gsme"))
    for name, fields, reason in (
        ("ReadExportRegister", {}, "secure-gsme has no export register"),
        (
            "ReadProfileData",
            {"profile": "export", "start": "2026-11-01T00:00:00Z", "end": "2026-11-02T00:00:00Z"},
            "secure-gsme has no export log",
        ),
        ("SetVoltageCounters", {"over_voltage_count": 1, "under_voltage_count": 0}, "secure-gsme measures no voltage"),
        (
            "SetRegister",
            {"register": "import", "unit": "Wh", "value": 1},
            "secure-gsme holds its registers in dm3, not 'Wh'",
        ),
    ):
        reply = adapter.execute(DeviceCommand(name, METER, fields))
        assert (reply.accepted, reply.reason) == (False, reason), name


def test_a_meter_refuses_to_read_a_period_that_ends_before_it_starts() -> None:
    adapter = SimulatedAdapter(find_dmc("secure-esme"))
    fields = {"start": "2026-11-02T00:00:00Z", "end": "2026-11-01T00:00:00Z"}
    reply = adapter.execute(DeviceCommand("ReadDailyConsumptionLog", METER, fields))
    assert (reply.accepted, reply.reason) == (
        False,
        "secure-esme cannot read a period that ends (2026-11-01T00:00:00Z) before it starts (2026-11-02T00:00:00Z)",
    )


class _Answers(SimulatedAdapter):
    """The simulated estate, but every read of profile data answers ``values``: a meter out of its contract."""

    def __init__(self, values: dict[str, Any]) -> None:
        super().__init__(find_dmc("secure-esme"))
        self.values = values

    def execute(self, command: DeviceCommand, timeout_s: float = 30.0) -> DeviceReply:
        if command.name == "ReadProfileData":
            return DeviceReply(True, dict(self.values))
        return super().execute(command, timeout_s)


@pytest.mark.parametrize(
    ("values", "problem"),
    [
        (
            {"unit": "kWh", "entries": []},
            "its unit is 'kWh', not 'Wh'",
        ),
        (
            {"unit": "Wh", "entries": [{"start": "2026-11-01T00:00:00Z", "value": "120"}]},
            "entry 1's value is '120', not a whole number",
        ),
        (
            {"unit": "Wh", "entries": [{"start": "2026-11-01T00:00:00+00:00", "value": 120}]},
            "entry 1 has no start in UTC (YYYY-MM-DDThh:mm:ssZ): {'start': '2026-11-01T00:00:00+00:00', 'value': 120}",
        ),
        (
            {"unit": "Wh", "entries": [{"start": "2026-11-01T00:00:00Z", "value": 1}] * 19_057},
            "19,057 entries, more than the 19,056 a response carries",
        ),
    ],
)
def test_a_meter_reply_out_of_its_contract_is_an_error_of_the_rig_not_a_response(
    duis_schema: DuisSchema, values: dict[str, Any], problem: str
) -> None:
    user = _session("secure-esme", duis_schema, _Answers(values))
    with pytest.raises(AdapterContractError) as raised:
        user.send("4.8.1", ReadActiveImportProfileData(DAY), METER)
    assert str(raised.value) == f"the meter's reply to ReadProfileData is not what the command promises: {problem}"


# --- behind s1sr serve-device ---------------------------------------------------------------


@pytest.fixture
def remote_esme() -> Iterator[RemoteAdapter]:
    dmc = find_dmc("secure-esme")
    log: list[str] = []
    server = make_server(SimulatedAdapter(dmc), "127.0.0.1", 0, log=log.append).start()
    adapter = RemoteAdapter(dmc, server.url, timeout_s=10)
    try:
        yield adapter
    finally:
        adapter.close()
        server.stop()


def test_a_rig_behind_serve_device_records_and_answers_the_same(
    duis_schema: DuisSchema, remote_esme: RemoteAdapter
) -> None:
    user = _session("secure-esme", duis_schema, remote_esme)
    _record(
        user,
        "RecordHalfHours",
        profile="active-import",
        unit="Wh",
        entries=_half_hours(("2026-11-01T00:00:00Z", 120), ("2026-11-01T00:30:00Z", 0)),
    )
    _record(user, "SetVoltageCounters", over_voltage_count=2, under_voltage_count=0)
    response = _read(user, "4.8.1", ReadActiveImportProfileData(DAY))
    assert response.values == {
        "LogEntry[1]/Timestamp": "2026-11-01T00:00:00Z",
        "LogEntry[1]/Electricity/PrimaryValue": 120,
        "LogEntry[2]/Timestamp": "2026-11-01T00:30:00Z",
        "LogEntry[2]/Electricity/PrimaryValue": 0,
    }
    state = user.adapter.snapshot()[METER]["metering"]
    assert (state["import_profile"], state["over_voltage_count"]) == (
        {"2026-11-01T00:00:00Z": 120, "2026-11-01T00:30:00Z": 0},
        2,
    )


# --- the request bodies and the payloads -----------------------------------------------


@pytest.mark.parametrize(
    ("text", "instant"),
    [
        ("2014-12-31T00:00:00.00Z", "2014-12-31T00:00:00Z"),
        (" 2014-12-31T00:00:00Z\t", "2014-12-31T00:00:00Z"),
        ("2014-12-31T24:00:00Z", "2015-01-01T00:00:00Z"),
        ("2014-12-31T24:00:00.000Z", "2015-01-01T00:00:00Z"),
        ("2014-12-31T01:30:00+01:30", "2014-12-31T00:00:00Z"),
        ("2014-12-30T10:00:00-14:00", "2014-12-31T00:00:00Z"),
        ("2014-12-31T00:00:00-00:00", "2014-12-31T00:00:00Z"),
        ("2014-12-31T00:00:00", "2014-12-31T00:00:00Z"),  # no zone: read as UTC
        ("2016-02-29T00:00:00Z", "2016-02-29T00:00:00Z"),
        ("2000-02-29T00:00:00Z", "2000-02-29T00:00:00Z"),
        ("2014-12-31T00:00:00.123456789Z", "2014-12-31T00:00:00.123456789Z"),
        ("10000-01-01T00:00:00Z", "10000-01-01T00:00:00Z"),
        ("-0004-02-29T00:00:00Z", "-0004-02-29T00:00:00Z"),
    ],
)
def test_a_read_log_date_time_is_read_as_the_schema_reads_it(duis_schema: DuisSchema, text: str, instant: str) -> None:
    assert XsDateTime.parse(text).key() == XsDateTime.parse(instant).key()
    assert duis_schema.is_valid(_with_start(text.strip())), text


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("0000-01-01T00:00:00Z", "has the year 0000, which XML Schema does not have"),
        ("2015-02-29T00:00:00Z", "has no day 29 in month 02 of year 2015"),
        ("1900-02-29T00:00:00Z", "has no day 29 in month 02 of year 1900"),
        ("2014-13-01T00:00:00Z", "has no month 13"),
        (
            "2014-12-31T24:00:01Z",
            "has hour 24 with minutes, seconds or a fraction: only 24:00:00 (the end of a day) is a time",
        ),
        ("2014-12-31T00:00:60Z", "has no time 00:00:60"),
        ("2014-12-31T00:00:00+14:01", "has the zone +14:01, beyond the -14:00..+14:00 of XML Schema"),
        ("2014-12-31T00:00:00+15:00", "has the zone +15:00, beyond the -14:00..+14:00 of XML Schema"),
        ("01000-01-01T00:00:00Z", "is not a date-time (YYYY-MM-DDThh:mm:ss[.fraction][Z|+hh:mm|-hh:mm])"),
        ("2014-12-31T00:00:00.Z", "is not a date-time (YYYY-MM-DDThh:mm:ss[.fraction][Z|+hh:mm|-hh:mm])"),
        ("2014-12-31t00:00:00Z", "is not a date-time (YYYY-MM-DDThh:mm:ss[.fraction][Z|+hh:mm|-hh:mm])"),
        ("2014-12-31T00:00:00+1400", "is not a date-time (YYYY-MM-DDThh:mm:ss[.fraction][Z|+hh:mm|-hh:mm])"),
    ],
)
def test_what_the_schema_refuses_the_reading_refuses_in_one_line(
    duis_schema: DuisSchema, text: str, problem: str
) -> None:
    assert not duis_schema.is_valid(_with_start(text))
    with pytest.raises(InputError) as raised:
        parse_request(_with_start(text), "request")
    assert raised.value.line() == (
        f"request: sr:Body/sr:ReadActiveImportProfileData: ReadLogPeriod/StartDateTime '{text}' {problem}"
    )


def _request(srv: str, body: RequestBody) -> bytes:
    return build_request(ServiceRequest(RequestId(SUPPLIER, METER, 1001), srv, body))


def _with_start(text: str) -> Any:
    xml = _request("4.8.1", ReadActiveImportProfileData(DAY)).decode()
    return parse_xml(xml.replace("<sr:StartDateTime>2026-11-01T00:00:00Z<", f"<sr:StartDateTime>{text}<", 1).encode())


@pytest.mark.parametrize(
    ("moment", "sent"),
    [
        ("2026-11-01T00:00:00Z", "2026-11-01T00:00:00Z"),
        ("2026-11-01T00:00:00.000000001Z", "2026-11-01T00:00:01Z"),
        ("2026-11-01T01:00:00+01:00", "2026-11-01T00:00:00Z"),
        ("0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00Z"),
        ("-0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
        ("9999-12-31T23:59:59.5Z", "9999-12-31T23:59:59Z"),
        ("10000-01-01T00:00:00Z", "9999-12-31T23:59:59Z"),
    ],
)
def test_the_meter_is_sent_the_first_whole_second_at_or_after_each_instant_within_its_clock(
    moment: str, sent: str
) -> None:
    assert device_time(XsDateTime.parse(moment)) == sent


def test_every_read_body_round_trips_valid_with_its_optional_parts(duis_schema: DuisSchema) -> None:
    from datetime import UTC, datetime

    when = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    certificate = "MIIBkzCCATigAwIBAgIQSj97+PfFUjk0Q1JiboPZoDAKBggqhkjOPQQDAjAa"
    for srv, body in (
        ("4.1.1", ReadInstantaneousImportRegisters(when)),
        ("4.2", ReadInstantaneousExportRegisters(when)),
        ("4.8.1", ReadActiveImportProfileData(DAY, when, certificate)),
        ("4.8.3", ReadExportProfileData(DAY, when)),
        ("4.10", ReadNetworkData(DAY, when, certificate)),
        ("4.17", RetrieveDailyConsumptionLog(DAY, when, certificate)),
    ):
        root = parse_xml(_request(srv, body))
        assert duis_schema.is_valid(root), (srv, duis_schema.problems(root))
        assert parse_request(root).body == body


def test_log_entries_round_trip_through_a_signed_payload() -> None:
    values: dict[str, Value] = {
        "Electricity/LogEntry[1]/Value": 8000,
        "Electricity/LogEntry[1]/Timestamp": "2026-11-01T00:00:00Z",
        "Electricity/LogEntry[2]/Value": 7500,
        "Electricity/LogEntry[2]/Timestamp": "2026-11-02T00:00:00Z",
    }
    response = SMETS1Response(RequestId(SUPPLIER, METER, 7), "4.17", "4.17", True, values)
    credentials = generated_credentials()
    read = parse_response(parse_xml(build_response(response, credentials)), credentials.cert_pem)
    assert read.signature.valid
    assert read.response.values == values
    assert log_entries(read.response.values, "Electricity") == [
        {"Value": 8000, "Timestamp": "2026-11-01T00:00:00Z"},
        {"Value": 7500, "Timestamp": "2026-11-02T00:00:00Z"},
    ]
    skipping = SMETS1Response(response.request_id, "4.17", "4.17", True, {"Electricity/LogEntry[2]/Value": 1})
    with pytest.raises(ValueError, match=r"LogEntry\[2\] written where LogEntry\[1\] comes next"):
        build_response(skipping, credentials)


def test_a_failed_read_whose_payload_needs_a_fuel_carries_no_payload_and_is_valid(duis_schema: DuisSchema) -> None:
    from s1sr.duis.response import Outcome

    for srv in ("4.1.1", "4.10", "4.17", "4.8.1", "4.2"):
        reference = SRV_BODIES[srv][0]
        failed = SMETS1Response(
            RequestId(SUPPLIER, METER, 7), srv, reference, False, {}, [Outcome(2, 1, "device rejected")]
        )
        root = parse_xml(build_response(failed, generated_credentials()))
        assert duis_schema.is_valid(root), (srv, duis_schema.problems(root))
        assert not parse_response(root, None).response.success


# --- the steps, as a feature uses them ------------------------------------------------------


FEATURE = """\
@clause-18.3
Feature: The metering steps, as a pack's feature writes them

  Scenario Outline: Half-hour import values read back in <unit>
    Given the meter recorded these half-hour import values:
      | start                | <unit> |
      | 2026-10-31T23:30:00Z | <a>    |
      | 2026-11-01T00:00:00Z | <b>    |
      | 2026-11-01T23:30:00Z | <c>    |
      | 2026-11-02T00:00:00Z | <a>    |
    And the meter's import register reads <register> <unit>
    When the User reads the active import profile data from 2026-11-01T00:00:00Z to 2026-11-02T00:00:00Z
    Then the response carries these half-hour values:
      | start                | <unit> |
      | 2026-11-01T00:00:00Z | <b>    |
      | 2026-11-01T23:30:00Z | <c>    |
    And the meter state is unchanged by the last request
    When the User reads the instantaneous import registers
    Then the response carries the import register at <register> <unit>

    @fuel-electricity
    Examples:
      | unit | a | b   | c  | register |
      | Wh   | 9 | 120 | 0  | 123456   |

    @fuel-gas
    Examples:
      | unit | a     | b     | c     | register |
      | m3   | 0.009 | 0.120 | 0.000 | 1234.567 |

  Scenario: A day of half hours, and an empty period
    Given the meter recorded 49 half-hour import values of 0 <unit> each from 2026-11-01T00:00:00Z
    When the User reads the active import profile data from 2026-11-01T00:00:00Z to 2026-11-02T00:00:00Z
    Then the response carries 48 half-hour values from 2026-11-01T00:00:00Z to 2026-11-01T23:30:00Z
    When the User reads the active import profile data from 2026-11-01T00:00:00Z to 2026-11-01T00:00:00Z
    Then the response carries no half-hour values

  Scenario: An ESME's voltages and daily consumption
    Given the meter recorded these RMS voltages:
      | start                | V     |
      | 2026-11-01T10:00:00Z | 241   |
      | 2026-11-01T10:30:00Z | 239.5 |
    And the meter counted 3 RMS over-voltages and 1 RMS under-voltage
    And the meter recorded these daily consumption values:
      | start                | Wh   |
      | 2026-11-01T00:00:00Z | 8000 |
    When the User reads the network data from 2026-11-01T00:00:00Z to 2026-11-02T00:00:00Z
    Then the response carries these RMS voltages:
      | start                | V     |
      | 2026-11-01T10:00:00Z | 241.0 |
      | 2026-11-01T10:30:00Z | 239.5 |
    And the response carries 3 RMS over-voltages and 1 RMS under-voltage
    When the User retrieves the daily consumption log from 2026-11-01T00:00:00Z to 2026-11-02T00:00:00Z
    Then the response carries these daily consumption values:
      | start                | Wh   |
      | 2026-11-01T00:00:00Z | 8000 |

  Scenario: What a User sees when the values differ
    Given the meter recorded these half-hour import values:
      | start                | Wh  |
      | 2026-11-01T00:00:00Z | 120 |
    When the User reads the active import profile data from 2026-11-01T00:00:00Z to 2026-11-02T00:00:00Z
    Then the response carries these half-hour values:
      | start                | Wh  |
      | 2026-11-01T00:00:00Z | 121 |
"""


def test_the_steps_record_read_and_compare_literally(tmp_path: Path) -> None:
    folder = tmp_path / "features"
    folder.mkdir()
    # The "A day..." scenario names <unit> outside an outline: give each fuel its own copy.
    text = FEATURE.replace(
        "  Scenario: A day of half hours, and an empty period\n",
        "  @fuel-electricity\n  Scenario: A day of half hours, and an empty period\n",
    ).replace("of 0 <unit> each", "of 0 Wh each")
    for marker in ("  Scenario: An ESME's voltages", "  Scenario: What a User sees"):
        text = text.replace(marker, "  @fuel-electricity\n" + marker)
    (folder / "metering.feature").write_text(textwrap.dedent(text), encoding="utf-8")
    done = s1sr(
        "run", "--features", str(folder), "--clause", "18.3", "--report-dir", str(tmp_path / "out"), cwd=tmp_path
    )
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    outcomes = sorted((s["name"], s["dmc"], s["outcome"]) for s in results["scenarios"])
    assert done.returncode == 1, done.stdout + done.stderr
    assert outcomes == [
        ("A day of half hours, and an empty period", "secure-esme", "passed"),
        ("A day of half hours, and an empty period", "secure-gsme", "not applicable"),
        ("An ESME's voltages and daily consumption", "secure-esme", "passed"),
        ("An ESME's voltages and daily consumption", "secure-gsme", "not applicable"),
        ("Half-hour import values read back in Wh", "secure-esme", "passed"),
        ("Half-hour import values read back in Wh", "secure-gsme", "not applicable"),
        ("Half-hour import values read back in m3", "secure-esme", "not applicable"),
        ("Half-hour import values read back in m3", "secure-gsme", "passed"),
        ("What a User sees when the values differ", "secure-esme", "failed"),
        ("What a User sees when the values differ", "secure-gsme", "not applicable"),
    ]
    failed = next(s for s in results["scenarios"] if s["outcome"] == "failed")
    assert failed["reason"] == (
        "the half-hour values the response carries: expected 2026-11-01T00:00:00Z 121 Wh, "
        "got 2026-11-01T00:00:00Z 120 Wh"
    )
