"""The reads: SRV 4.1.1, 4.2, 4.8.1, 4.8.3, 4.10 and 4.17 on the Secure ESME and GSME.

Each handler sends one read command to the target meter and writes what the meter answers as
the MMC payload of its SRV; it keeps nothing and reads no clock, so its response depends only on
the request and the meter's reply (a cache, where a modification pack has one, wraps it).

Readings (interpretation, where DUIS and the MMC leave it open):

- **Which log entries a ReadLogPeriod asks for.** An entry is identified by the start of the
  period it covers (a half hour, a day), and it is in the period when it starts at or after
  ``StartDateTime`` and before ``EndDateTime``: the end is exclusive. So a day from midnight to
  midnight, as the RTDS requests ask, holds 48 half hours, not 49, as the MMC's maxima (19,056 =
  397 x 48; 4,464 = 93 x 48; 4,320 = 90 x 48) count whole days. An empty period
  (end = start) asks for nothing; an end before the start is refused when the request is read.
- **What the meter is sent.** The two instants, exactly: each as the first whole UTC second at or
  after it (entries start on whole seconds, so no entry moves in or out of the period), within
  the years 0001-9999 a meter's clock holds.
- **Units.** An ESME answers in Wh, written as DUIS integers; a GSME in dm3, written as m3 with
  three decimals (``1.250``); an ESME's RMS voltages in dV, written as volts (``239.5``).
- **Timestamps** are the start of the period an entry covers, in UTC.
- **KAPublicSecurityCredentials** is read and not used: the reference S1SP returns the values as
  read, signed like any other response.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from s1sr.devices.adapter import AdapterContractError
from s1sr.devices.commands import DeviceReply
from s1sr.duis.request import (
    LogRead,
    ReadActiveImportProfileData,
    ReadExportProfileData,
    ReadNetworkData,
    RetrieveDailyConsumptionLog,
    ServiceRequest,
    XsDateTime,
)
from s1sr.duis.response import MAX_LOG_ENTRIES, SMETS1Response, Value
from s1sr.s1sp.router import handles

if TYPE_CHECKING:
    from s1sr.s1sp.translator import HandlerContext

#: The unit a meter of each fuel answers its energy (or gas volume) in, and its RMS voltages in.
ENERGY_UNIT = {"electricity": "Wh", "gas": "dm3"}
VOLTAGE_UNIT = "dV"
#: The MMC's element for each fuel.
FUEL_ELEMENT = {"electricity": "Electricity", "gas": "Gas"}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: The instants a meter's clock holds: years 0001 to 9999, to the second.
DEVICE_FIRST = datetime(1, 1, 1, tzinfo=UTC)
DEVICE_LAST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)
_DEVICE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


# --- from DUIS to the meter, and back ------------------------------------------------


def device_time(moment: XsDateTime) -> str:
    """The first whole UTC second at or after ``moment``, as a meter's clock writes it, within its years."""
    seconds = moment.ceiling_seconds()
    first = int((DEVICE_FIRST - _EPOCH).total_seconds())
    last = int((DEVICE_LAST - _EPOCH).total_seconds())
    instant = _EPOCH + timedelta(seconds=min(max(seconds, first), last))
    return f"{instant.year:04d}-{instant.month:02d}-{instant.day:02d}T{instant:%H:%M:%S}Z"


def device_period(body: LogRead) -> dict[str, str]:
    """The ``start`` and ``end`` fields of a read command for the request's ReadLogPeriod."""
    return {"start": device_time(body.period.start), "end": device_time(body.period.end)}


def in_m3(dm3: int) -> str:
    """Litres as DUIS writes a gas volume: m3 with three decimals (1250 -> ``1.250``)."""
    return format(Decimal(dm3).scaleb(-3), "f")


def in_volts(decivolts: int) -> str:
    """Tenths of a volt as volts (2395 -> ``239.5``)."""
    return format(Decimal(decivolts).scaleb(-1), "f")


@dataclass(frozen=True)
class LoggedValue:
    """One entry of a meter's log: the start of the period it covers (as DUIS writes it) and its value."""

    start: str
    value: int


def _broken(command: str, what: str) -> AdapterContractError:
    return AdapterContractError(f"the meter's reply to {command} is not what the command promises: {what}")


def _whole(value: Any, command: str, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _broken(command, f"{what} is {value!r}, not a whole number")
    return value


def _unit(reply: DeviceReply, command: str, expected: str) -> None:
    found = reply.values.get("unit")
    if found != expected:
        raise _broken(command, f"its unit is {found!r}, not {expected!r}")


def logged_values(reply: DeviceReply, command: str, unit: str, most: int) -> list[LoggedValue]:
    """The ``entries`` of a read reply, checked: a list of at most ``most``, each a device time and a whole number."""
    _unit(reply, command, unit)
    raw = reply.values.get("entries")
    if not isinstance(raw, list):
        raise _broken(command, f"entries is {type(raw).__name__}, not a list")
    if len(raw) > most:
        raise _broken(command, f"{len(raw):,} entries, more than the {most:,} a response carries")
    found = []
    for index, entry in enumerate(raw, start=1):
        start = entry.get("start") if isinstance(entry, dict) else None
        if not isinstance(start, str) or not _DEVICE_TIME.fullmatch(start):
            raise _broken(command, f"entry {index} has no start in UTC (YYYY-MM-DDThh:mm:ssZ): {entry!r:.80}")
        found.append(LoggedValue(start, _whole(entry.get("value"), command, f"entry {index}'s value")))
    return found


def _most(srv: str, fuel: str) -> int:
    return MAX_LOG_ENTRIES[(srv, fuel)]


def _log(
    prefix: str, entries: list[LoggedValue], value_path: str, convert: Any, *, value_first: bool
) -> dict[str, Value]:
    """Payload values of numbered LogEntry elements below ``prefix``, in the order the MMC type gives them."""
    values: dict[str, Value] = {}
    for number, entry in enumerate(entries, start=1):
        pair: list[tuple[str, Value]] = [("Timestamp", entry.start), (value_path, convert(entry.value))]
        for path, value in reversed(pair) if value_first else pair:
            values[f"{prefix}LogEntry[{number}]/{path}"] = value
    return values


def _energy(fuel: str) -> Any:
    """How a meter's energy value is written: Wh as they are, dm3 as m3."""
    return in_m3 if fuel == "gas" else int


# --- the handlers ------------------------------------------------------------------


@handles("4.1.1")
def read_instantaneous_import_registers(ctx: HandlerContext, request: ServiceRequest) -> SMETS1Response:
    """The import register: an ESME's ActiveImportRegister in Wh, a GSME's ConsumptionRegister in m3."""
    reply = ctx.send(ctx.command("4.1.1", "ReadImportRegister", request.target))
    if not reply.accepted:
        return ctx.relay(request, reply)
    _unit(reply, "ReadImportRegister", ENERGY_UNIT[ctx.fuel])
    value = _whole(reply.values.get("value"), "ReadImportRegister", "value")
    if ctx.fuel == "gas":
        return ctx.ok(request, {"Gas/ConsumptionRegister/Value": in_m3(value), "Gas/ConsumptionRegister/Unit": "m3"})
    return ctx.ok(
        request,
        {
            "Electricity/ActiveImportRegister/Value": value,
            "Electricity/ActiveImportRegister/ActiveEnergyUnit": "Wh",
        },
    )


@handles("4.2")
def read_instantaneous_export_registers(ctx: HandlerContext, request: ServiceRequest) -> SMETS1Response:
    """An ESME's ActiveExportRegister in Wh (a meter without one refuses the command)."""
    reply = ctx.send(ctx.command("4.2", "ReadExportRegister", request.target))
    if not reply.accepted:
        return ctx.relay(request, reply)
    _unit(reply, "ReadExportRegister", "Wh")
    value = _whole(reply.values.get("value"), "ReadExportRegister", "value")
    return ctx.ok(request, {"ActiveExportRegister/Value": value, "ActiveExportRegister/ActiveEnergyUnit": "Wh"})


@handles("4.8.1")
def read_active_import_profile_data(ctx: HandlerContext, request: ServiceRequest) -> SMETS1Response:
    """The half-hour import values in the period: PrimaryValue in Wh (ESME) or m3 (GSME)."""
    body = request.body
    assert isinstance(body, ReadActiveImportProfileData)
    command = ctx.command("4.8.1", "ReadProfileData", request.target, profile="active-import", **device_period(body))
    reply = ctx.send(command)
    if not reply.accepted:
        return ctx.relay(request, reply)
    entries = logged_values(reply, "ReadProfileData", ENERGY_UNIT[ctx.fuel], _most("4.8.1", ctx.fuel))
    value_path = f"{FUEL_ELEMENT[ctx.fuel]}/PrimaryValue"
    return ctx.ok(request, _log("", entries, value_path, _energy(ctx.fuel), value_first=False))


@handles("4.8.3")
def read_export_profile_data(ctx: HandlerContext, request: ServiceRequest) -> SMETS1Response:
    """An ESME's half-hour export values in the period: ActiveEnergyExportedValue in Wh."""
    body = request.body
    assert isinstance(body, ReadExportProfileData)
    reply = ctx.send(ctx.command("4.8.3", "ReadProfileData", request.target, profile="export", **device_period(body)))
    if not reply.accepted:
        return ctx.relay(request, reply)
    entries = logged_values(reply, "ReadProfileData", "Wh", _most("4.8.3", "electricity"))
    return ctx.ok(request, _log("", entries, "ActiveEnergyExportedValue", int, value_first=True))


@handles("4.10")
def read_network_data(ctx: HandlerContext, request: ServiceRequest) -> SMETS1Response:
    """An ESME's RMS voltage profile and counters (single phase), or a GSME's network data log, in the period."""
    body = request.body
    assert isinstance(body, ReadNetworkData)
    reply = ctx.send(ctx.command("4.10", "ReadNetworkData", request.target, **device_period(body)))
    if not reply.accepted:
        return ctx.relay(request, reply)
    if ctx.fuel == "gas":
        entries = logged_values(reply, "ReadNetworkData", "dm3", _most("4.10", "gas"))
        logged = _log("Gas/NetworkDataLog/", entries, "Value", in_m3, value_first=True)
        return ctx.ok(request, logged or {"Gas/NetworkDataLog": ""})
    entries = logged_values(reply, "ReadNetworkData", VOLTAGE_UNIT, _most("4.10", "electricity"))
    esme = "Electricity/SinglePhaseESME/"
    values: dict[str, Value] = {
        f"{esme}AvgRMSOverVoltageCounter/Value": _whole(
            reply.values.get("over_voltage_count"), "ReadNetworkData", "over_voltage_count"
        ),
        f"{esme}AvgRMSUnderVoltageCounter/Value": _whole(
            reply.values.get("under_voltage_count"), "ReadNetworkData", "under_voltage_count"
        ),
    }
    values.update(_log(f"{esme}AvgRMSVoltageProfileDataLog/", entries, "Value", in_volts, value_first=True))
    period = _whole(reply.values.get("measurement_period_s"), "ReadNetworkData", "measurement_period_s")
    values[f"{esme}AvgRMSVoltageProfileDataLog/MeasurementPeriod"] = period
    return ctx.ok(request, values)


@handles("4.17")
def retrieve_daily_consumption_log(ctx: HandlerContext, request: ServiceRequest) -> SMETS1Response:
    """The daily consumption values in the period: Wh (ESME) or m3 (GSME), each timestamped with its day's start."""
    body = request.body
    assert isinstance(body, RetrieveDailyConsumptionLog)
    reply = ctx.send(ctx.command("4.17", "ReadDailyConsumptionLog", request.target, **device_period(body)))
    if not reply.accepted:
        return ctx.relay(request, reply)
    entries = logged_values(reply, "ReadDailyConsumptionLog", ENERGY_UNIT[ctx.fuel], _most("4.17", ctx.fuel))
    fuel = FUEL_ELEMENT[ctx.fuel]
    values = _log(f"{fuel}/", entries, "Value", _energy(ctx.fuel), value_first=True)
    return ctx.ok(request, values or {fuel: ""})
