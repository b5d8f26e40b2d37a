"""Steps for what a meter measured and the reads that return it: SRV 4.1.1, 4.2, 4.8.1, 4.8.3, 4.10, 4.17.

No DUIS request records consumption, so a scenario states what the meter recorded with
device-side steps: the harness's own commands (``RecordHalfHours``...), sent straight to the
adapter, never by the S1SP and never in its evidence. Values are written as DUIS writes them,
with the unit in the table's header: ``Wh`` for an ESME's energy, ``m3`` for a GSME's gas volume,
``V`` for an ESME's RMS voltage. The expected values of a read are literal tables too, compared
entry by entry: the same instants, the same numbers, in the same order, nothing more.

Which entries a period holds is the reading of :mod:`s1sr.s1sp.reads`: those starting at or
after its start and before its end.
"""

from decimal import Decimal, InvalidOperation
from typing import Any

from pytest_bdd import given, parsers, then, when

from s1sr.devices.adapter import DeviceFault
from s1sr.devices.commands import DeviceCommand
from s1sr.duis.request import (
    ReadActiveImportProfileData,
    ReadExportProfileData,
    ReadInstantaneousExportRegisters,
    ReadInstantaneousImportRegisters,
    ReadLogPeriod,
    ReadNetworkData,
    RequestBody,
    RetrieveDailyConsumptionLog,
    XsDateTime,
)
from s1sr.duis.response import SMETS1Response, Value, log_entries
from s1sr.errors import ConfigError, InputError
from s1sr.gherkin import Mismatch
from s1sr.observability import DEVICE_STATE, device_side
from s1sr.plugin.settings import RunSettings
from s1sr.session import UserSession

#: A unit a feature writes -> (the fuel whose meter measures in it, the meter's unit, meter units per DUIS unit).
UNITS = {"Wh": ("electricity", "Wh", 1), "m3": ("gas", "dm3", 1000), "V": ("electricity", "dV", 10)}
#: The unit a meter's energy (or gas volume) is written in, by fuel.
ENERGY = {"electricity": "Wh", "gas": "m3"}
TIME = r"\S+"
PERIOD = rf"from (?P<start>{TIME}) to (?P<end>{TIME})"
HALF_HOUR_S = 1800

Row = tuple[str, str]


# --- tables and values as a feature writes them -------------------------------------


def _instant(text: str, what: str) -> XsDateTime:
    """A date-time the feature wrote; its mistake (ConfigError) when it is not one."""
    try:
        return XsDateTime.parse(text, what)
    except InputError as exc:
        raise ConfigError(exc.what, "the feature", "write date-times as DUIS does: 2026-11-01T00:00:00Z") from None


def _table(datatable: list[list[str]], units: tuple[str, ...], what: str) -> tuple[str, list[Row]]:
    """The unit named in the header ``| start | <unit> |`` and the rows; the feature's mistake when not so."""
    if not datatable or len(datatable[0]) != 2 or datatable[0][0].strip() != "start":
        raise ConfigError(
            f"the table of {what} needs the header | start | {' or '.join(units)} |", "the feature", "add it"
        )
    unit = datatable[0][1].strip()
    if unit not in units:
        raise ConfigError(f"the table of {what} is in {unit!r}", "the feature", f"give {' or '.join(units)}")
    rows = [(row[0].strip(), row[1].strip()) for row in datatable[1:]]
    if any(len(row) != 2 for row in datatable[1:]):
        raise ConfigError(f"the table of {what} has a row without two cells", "the feature")
    return unit, rows


def _number(text: str, unit: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ConfigError(f"{text!r} is not a number of {unit}", "the feature") from None
    if not value.is_finite():
        raise ConfigError(f"{text!r} is not a number of {unit}", "the feature")
    return value


def _in_meter_units(text: str, unit: str) -> int:
    """A value the feature wrote in a DUIS unit, as the meter holds it (a whole number of its own unit)."""
    _, meter_unit, factor = UNITS[unit]
    scaled = _number(text, unit) * factor
    if scaled != scaled.to_integral_value() or scaled < 0:
        raise ConfigError(
            f"{text} {unit} is not a whole number of {meter_unit} of 0 or more, which the meter holds", "the feature"
        )
    return int(scaled)


def _suits(user: UserSession, unit: str, what: str) -> None:
    """The meter under test measures in ``unit``: a feature giving gas volumes to an ESME is mistaken."""
    fuel = UNITS[unit][0]
    if fuel != user.fuel:
        raise ConfigError(
            f"the feature gives {what} in {unit}, which a {fuel} meter measures, but DMC {user.dmc.id} has a "
            f"{user.fuel} meter",
            "the feature",
            f"tag the scenario's Examples @fuel-{fuel}, or give the values in {ENERGY[user.fuel]}",
        )


def _entries(unit: str, rows: list[Row], what: str) -> list[dict[str, Any]]:
    entries = []
    for start, value in rows:
        moment = _instant(start, f"the start of a row of {what}")
        if moment.offset_minutes != 0 or moment.fraction:
            raise ConfigError(f"{start} is not a whole second in UTC (...Z)", "the feature", f"write {what} in UTC")
        entries.append({"start": moment.text(), "value": _in_meter_units(value, unit)})
    return entries


def _arrange(user: UserSession, settings: RunSettings, name: str, fields: dict[str, Any], what: str) -> None:
    """Put recorded data on the meter (the harness's command, outside any request); an error if it refuses."""
    command = DeviceCommand(name, user.meter_id, fields)
    reply = user.adapter.execute(command, settings.timeout_s)
    if not reply.accepted:
        raise DeviceFault(f"the meter under test did not take {what} ({name}): {reply.reason}")


# --- Given: what the meter recorded (device-side) -------------------------------------


@given(parsers.re(r"the meter recorded these half-hour (?P<profile>import|export) values:"))
@device_side(DEVICE_STATE)
def recorded_half_hours(
    user: UserSession, s1sr_settings: RunSettings, profile: str, datatable: list[list[str]]
) -> None:
    what = f"half-hour {profile} values"
    unit, rows = _table(datatable, ("Wh", "m3"), what)
    _suits(user, unit, what)
    fields = {
        "profile": "active-import" if profile == "import" else "export",
        "unit": UNITS[unit][1],
        "entries": _entries(unit, rows, what),
    }
    _arrange(user, s1sr_settings, "RecordHalfHours", fields, what)


@given(
    parsers.re(
        r"the meter recorded (?P<count>\d+) half-hour (?P<profile>import|export) values of "
        rf"(?P<value>[0-9.]+) (?P<unit>Wh|m3) each from (?P<start>{TIME})"
    )
)
@device_side(DEVICE_STATE)
def recorded_many_half_hours(
    user: UserSession, s1sr_settings: RunSettings, count: str, profile: str, value: str, unit: str, start: str
) -> None:
    what = f"half-hour {profile} values"
    _suits(user, unit, what)
    first = _instant(start, "the first half hour")
    if first.offset_minutes != 0 or first.fraction or first.utc_seconds % HALF_HOUR_S:
        raise ConfigError(f"{start} is not the start of a half hour in UTC", "the feature")
    held = _in_meter_units(value, unit)
    entries = [
        {"start": XsDateTime(first.utc_seconds + n * HALF_HOUR_S).text(), "value": held} for n in range(int(count))
    ]
    fields = {"profile": "active-import" if profile == "import" else "export", "unit": UNITS[unit][1]}
    _arrange(user, s1sr_settings, "RecordHalfHours", {**fields, "entries": entries}, what)


@given(parsers.re(r"the meter's (?P<register>import|export) register reads (?P<value>[0-9.]+) (?P<unit>Wh|m3)"))
@device_side(DEVICE_STATE)
def register_reads(user: UserSession, s1sr_settings: RunSettings, register: str, value: str, unit: str) -> None:
    what = f"the {register} register"
    _suits(user, unit, what)
    fields = {"register": register, "unit": UNITS[unit][1], "value": _in_meter_units(value, unit)}
    _arrange(user, s1sr_settings, "SetRegister", fields, what)


@given("the meter recorded these RMS voltages:")
@device_side(DEVICE_STATE)
def recorded_voltages(user: UserSession, s1sr_settings: RunSettings, datatable: list[list[str]]) -> None:
    unit, rows = _table(datatable, ("V",), "RMS voltages")
    _suits(user, unit, "RMS voltages")
    fields = {"unit": "dV", "entries": _entries(unit, rows, "RMS voltages")}
    _arrange(user, s1sr_settings, "RecordNetworkData", fields, "RMS voltages")


@given(parsers.re(r"the meter counted (?P<over>\d+) RMS over-voltages? and (?P<under>\d+) RMS under-voltages?"))
@device_side(DEVICE_STATE)
def counted_voltages(user: UserSession, s1sr_settings: RunSettings, over: str, under: str) -> None:
    _suits(user, "V", "RMS voltage counters")
    fields = {"over_voltage_count": int(over), "under_voltage_count": int(under)}
    _arrange(user, s1sr_settings, "SetVoltageCounters", fields, "RMS voltage counters")


@given("the meter recorded these network data values:")
@device_side(DEVICE_STATE)
def recorded_network_data(user: UserSession, s1sr_settings: RunSettings, datatable: list[list[str]]) -> None:
    unit, rows = _table(datatable, ("m3",), "network data values")
    _suits(user, unit, "network data values")
    fields = {"unit": "dm3", "entries": _entries(unit, rows, "network data values")}
    _arrange(user, s1sr_settings, "RecordNetworkData", fields, "network data values")


@given("the meter recorded these daily consumption values:")
@device_side(DEVICE_STATE)
def recorded_daily(user: UserSession, s1sr_settings: RunSettings, datatable: list[list[str]]) -> None:
    unit, rows = _table(datatable, ("Wh", "m3"), "daily consumption values")
    _suits(user, unit, "daily consumption values")
    fields = {"unit": UNITS[unit][1], "entries": _entries(unit, rows, "daily consumption values")}
    _arrange(user, s1sr_settings, "RecordDailyConsumption", fields, "daily consumption values")


# --- When: the reads --------------------------------------------------------------------


def _period(start: str, end: str) -> ReadLogPeriod:
    """The period as the feature wrote it (an end before the start is sent as written: the S1SP refuses it)."""
    return ReadLogPeriod(_instant(start, "StartDateTime"), _instant(end, "EndDateTime"))


def _send(user: UserSession, srv: str, body: RequestBody) -> None:
    user.send(srv, body, user.meter_id)


@when("the User reads the instantaneous import registers")
def read_import_registers(user: UserSession) -> None:
    _send(user, "4.1.1", ReadInstantaneousImportRegisters())


@when("the User reads the instantaneous export registers")
def read_export_registers(user: UserSession) -> None:
    _send(user, "4.2", ReadInstantaneousExportRegisters())


@when(parsers.re(rf"the User reads the active import profile data {PERIOD}"))
def read_import_profile(user: UserSession, start: str, end: str) -> None:
    _send(user, "4.8.1", ReadActiveImportProfileData(_period(start, end)))


@when(parsers.re(rf"the User reads the export profile data {PERIOD}"))
def read_export_profile(user: UserSession, start: str, end: str) -> None:
    _send(user, "4.8.3", ReadExportProfileData(_period(start, end)))


@when(parsers.re(rf"the User reads the network data {PERIOD}"))
def read_network(user: UserSession, start: str, end: str) -> None:
    _send(user, "4.10", ReadNetworkData(_period(start, end)))


@when(parsers.re(rf"the User retrieves the daily consumption log {PERIOD}"))
def retrieve_daily(user: UserSession, start: str, end: str) -> None:
    _send(user, "4.17", RetrieveDailyConsumptionLog(_period(start, end)))


# --- Then: what the response carries ------------------------------------------------


def _succeeded(user: UserSession) -> SMETS1Response:
    response = user.require_response()
    assert response.success, f"expected the read to succeed; it failed ({response.response_code}): {response.reason()}"
    return response


#: Per SRV and fuel: the path the payload's LogEntry elements are under, and each entry's value below it.
LOGS: dict[tuple[str, str], tuple[str, str]] = {
    ("4.8.1", "electricity"): ("", "Electricity/PrimaryValue"),
    ("4.8.1", "gas"): ("", "Gas/PrimaryValue"),
    ("4.8.3", "electricity"): ("", "ActiveEnergyExportedValue"),
    ("4.10", "electricity"): ("Electricity/SinglePhaseESME/AvgRMSVoltageProfileDataLog", "Value"),
    ("4.10", "gas"): ("Gas/NetworkDataLog", "Value"),
    ("4.17", "electricity"): ("Electricity", "Value"),
    ("4.17", "gas"): ("Gas", "Value"),
}


def _carried(response: SMETS1Response, fuel: str) -> list[tuple[Value, Value]]:
    """(Timestamp, value) of every log entry of the response, in order."""
    if (response.srv, fuel) not in LOGS:
        raise AssertionError(f"the last request was SRV {response.srv}, which carries no log from a {fuel} meter")
    under, path = LOGS[(response.srv, fuel)]
    return [(e.get("Timestamp", "(none)"), e.get(path, "(none)")) for e in log_entries(response.values, under)]


def _same_instant(found: Value, expected: str) -> bool:
    try:
        return XsDateTime.parse(str(found)).key() == _instant(expected, "a start").key()
    except InputError:
        return False


def _same_number(found: Value, expected: str, unit: str) -> bool:
    if isinstance(found, bool):
        return False
    try:
        return Decimal(str(found)) == _number(expected, unit)
    except InvalidOperation:
        return False


def _shown(rows: list[tuple[Any, Any]], unit: str) -> str:
    return "; ".join(f"{start} {value} {unit}" for start, value in rows) or "no entry"


def _expect_log(user: UserSession, srv: tuple[str, ...], what: str, unit: str, rows: list[Row]) -> None:
    response = _succeeded(user)
    if response.srv not in srv:
        raise ConfigError(f"the last request was SRV {response.srv}, not a read of {what}", "the feature")
    carried = _carried(response, user.fuel)
    same = len(carried) == len(rows) and all(
        _same_instant(found_start, start) and _same_number(found_value, value, unit)
        for (found_start, found_value), (start, value) in zip(carried, rows, strict=True)
    )
    if not same:
        raise Mismatch(f"the {what} the response carries", _shown(rows, unit), _shown(carried, unit))


@then(parsers.re(r"the response carries these (?P<what>half-hour values|daily consumption values):"))
def carries_values(user: UserSession, what: str, datatable: list[list[str]]) -> None:
    unit, rows = _table(datatable, ("Wh", "m3"), what)
    srvs = ("4.8.1", "4.8.3") if what == "half-hour values" else ("4.17",)
    _expect_log(user, srvs, what, unit, rows)


@then(parsers.re(r"the response carries no (?P<what>half-hour values|daily consumption values|RMS voltages)"))
def carries_none(user: UserSession, what: str) -> None:
    srvs = {"half-hour values": ("4.8.1", "4.8.3"), "daily consumption values": ("4.17",), "RMS voltages": ("4.10",)}
    _expect_log(user, srvs[what], what, ENERGY[user.fuel], [])


@then("the response carries these RMS voltages:")
def carries_voltages(user: UserSession, datatable: list[list[str]]) -> None:
    unit, rows = _table(datatable, ("V",), "RMS voltages")
    _expect_log(user, ("4.10",), "RMS voltages", unit, rows)


@then("the response carries these network data values:")
def carries_network_data(user: UserSession, datatable: list[list[str]]) -> None:
    unit, rows = _table(datatable, ("m3",), "network data values")
    _expect_log(user, ("4.10",), "network data values", unit, rows)


@then(parsers.re(rf"the response carries (?P<count>\d+) half-hour values from (?P<first>{TIME}) to (?P<last>{TIME})"))
def carries_many(user: UserSession, count: str, first: str, last: str) -> None:
    response = _succeeded(user)
    carried = _carried(response, user.fuel)
    found = f"{len(carried)} from {carried[0][0]} to {carried[-1][0]}" if carried else "none"
    expected = f"{count} from {first} to {last}"
    if not carried or len(carried) != int(count):
        raise Mismatch("half-hour values the response carries", expected, found)
    if not (_same_instant(carried[0][0], first) and _same_instant(carried[-1][0], last)):
        raise Mismatch("half-hour values the response carries", expected, found)


#: Where each register is in its SRV's payload, by fuel.
REGISTERS = {
    ("import", "electricity"): ("4.1.1", "Electricity/ActiveImportRegister/Value"),
    ("import", "gas"): ("4.1.1", "Gas/ConsumptionRegister/Value"),
    ("export", "electricity"): ("4.2", "ActiveExportRegister/Value"),
}


@then(
    parsers.re(r"the response carries the (?P<register>import|export) register at (?P<value>[0-9.]+) (?P<unit>Wh|m3)")
)
def carries_register(user: UserSession, register: str, value: str, unit: str) -> None:
    response = _succeeded(user)
    srv, path = REGISTERS.get((register, user.fuel), ("", ""))
    if response.srv != srv:
        raise ConfigError(
            f"the last request was SRV {response.srv}, not a read of the {register} register", "the feature"
        )
    found = response.values.get(path, "(absent)")
    if not _same_number(found, value, unit):
        raise Mismatch(f"the {register} register ({path})", f"{value} {unit}", f"{found} {unit}")


@then(parsers.re(r"the response carries (?P<over>\d+) RMS over-voltages? and (?P<under>\d+) RMS under-voltages?"))
def carries_counters(user: UserSession, over: str, under: str) -> None:
    response = _succeeded(user)
    esme = "Electricity/SinglePhaseESME/"
    found = (
        response.values.get(f"{esme}AvgRMSOverVoltageCounter/Value", "(absent)"),
        response.values.get(f"{esme}AvgRMSUnderVoltageCounter/Value", "(absent)"),
    )
    if not (_same_number(found[0], over, "events") and _same_number(found[1], under, "events")):
        raise Mismatch("RMS over- and under-voltages counted", f"{over} and {under}", f"{found[0]} and {found[1]}")
