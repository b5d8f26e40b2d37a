"""Simulated Secure devices: the built-in, default system under test.

Each class models what the S1SR reading says a Secure device does, in the units
the device holds: money in whole pence, join windows in whole minutes, load
limits in watts in a 16-bit field, and firmware state per HAN. A meter also keeps
what it measured (:class:`MeteringLogs`): registers, half-hour profiles, network
data and a daily consumption log, put there by a test through the harness's own
commands (:data:`s1sr.devices.commands.HARNESS_COMMANDS`) and read by the S1SP.

The estate for a DMC: two HANs, so that firmware scenarios can name a device
whose HAN is busy and one whose HAN is free.

====== =========================  =========================
HAN    Communications Hub         meter (the DMC's model)
====== =========================  =========================
HAN-A  00-DB-12-34-56-78-90-A2    00-DB-12-34-56-78-90-A0
HAN-B  00-DB-12-34-56-78-90-B2    00-DB-12-34-56-78-90-B0
====== =========================  =========================
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from s1sr.catalogue import DMC, DeviceModel
from s1sr.devices.adapter import DEFAULT_TIMEOUT_S, DeviceAdapter, DeviceFault, DeviceInfo, DeviceTimeout
from s1sr.devices.commands import COMMANDS, HARNESS_COMMANDS, PROFILES, DeviceCommand, DeviceReply
from s1sr.errors import ConfigError

#: The largest value the 16-bit load-limit threshold field of a Secure ESME holds (watts).
LOAD_LIMIT_FIELD_MAX_W = 65535
#: Join windows a Secure Communications Hub accepts, in whole minutes.
JOIN_MINUTES_RANGE = (1, 60)
#: Devices a simulated hub's join whitelist holds at once (a hub's memory is finite; this bounds the state).
WHITELIST_CAPACITY = 16

ESTATE = (
    ("HAN-A", "00-DB-12-34-56-78-90-A2", "00-DB-12-34-56-78-90-A0"),
    ("HAN-B", "00-DB-12-34-56-78-90-B2", "00-DB-12-34-56-78-90-B0"),
)


@dataclass
class LoadLimit:
    """Load limiting general settings as the ESME holds them."""

    power_threshold_w: int
    period_s: int
    restoration_period_s: int
    supply_state: str


@dataclass
class MeteringLogs:
    """What a meter measured, in its own units, each log keyed by the start of the period an entry covers.

    Units: energy in Wh (ESME), gas volume in dm3 (GSME), RMS voltage in dV (ESME). A period not
    recorded has no entry (it is not 0). Every log is kept in time order.
    """

    import_register: int = 0
    export_register: int = 0
    import_profile: dict[str, int] = field(default_factory=dict)
    export_profile: dict[str, int] = field(default_factory=dict)
    rms_voltages: dict[str, int] = field(default_factory=dict)
    over_voltage_count: int = 0
    under_voltage_count: int = 0
    network_data: dict[str, int] = field(default_factory=dict)
    daily_consumption: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class LogKind:
    """One log of a meter: where it is kept, its unit, the period an entry covers, how many entries it holds."""

    attribute: str
    unit: str
    #: Entries start on whole multiples of this many seconds since 1970 (1800: half hours; 1: any second).
    period_s: int
    #: Entries held; recording more drops the oldest. These are the most a DUIS response carries
    #: (the MMC's maxOccurs), so a read of a whole log always fits one response.
    capacity: int


HALF_HOUR_S = 1800
DAY_S = 86400
_SPANS = {HALF_HOUR_S: "a half hour", DAY_S: "a day", 1: "a second"}
#: The seconds an ESME averages each RMS voltage over (MMC MeasurementPeriod): a half hour.
RMS_MEASUREMENT_PERIOD_S = HALF_HOUR_S
#: The logs of each fuel's meter, by the name the commands use (a profile name, "network", "daily").
LOGS: dict[str, dict[str, LogKind]] = {
    "electricity": {
        "active-import": LogKind("import_profile", "Wh", HALF_HOUR_S, 19056),
        "export": LogKind("export_profile", "Wh", HALF_HOUR_S, 4464),
        "network": LogKind("rms_voltages", "dV", HALF_HOUR_S, 4320),
        "daily": LogKind("daily_consumption", "Wh", DAY_S, 731),
    },
    "gas": {
        "active-import": LogKind("import_profile", "dm3", HALF_HOUR_S, 19056),
        "network": LogKind("network_data", "dm3", 1, 41),
        "daily": LogKind("daily_consumption", "dm3", DAY_S, 731),
    },
}
#: A time as a meter's clock holds it: UTC, to the second, years 0001 to 9999.
_DEVICE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _device_seconds(value: Any) -> int | None:
    """Seconds since 1970 of a device time (``2026-11-01T00:30:00Z``), None when it is not one."""
    if not isinstance(value, str) or not _DEVICE_TIME.fullmatch(value):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return int((moment - _EPOCH).total_seconds())


def _count(value: Any) -> bool:
    """A whole number a register or a log holds: not negative (a boolean is not one)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


class MeterMetering:
    """The metering functions of one meter: registers and logs recorded by a test, read by the S1SP.

    Reads never change anything. A command the meter cannot take is refused whole, with the reason,
    and changes nothing.
    """

    def __init__(self, model: DeviceModel, logs: MeteringLogs) -> None:
        self.model = model
        self.logs = logs
        self.kinds = LOGS.get(model.fuel, {})
        self.energy_unit = self.kinds["active-import"].unit if self.kinds else ""

    def handle(self, command: DeviceCommand) -> DeviceReply:
        """Read or record as the meter would."""
        f, logs = command.fields, self.logs
        match command.name:
            case "ReadImportRegister":
                return DeviceReply(True, {"value": logs.import_register, "unit": self.energy_unit})
            case "ReadExportRegister":
                if "export" not in self.kinds:
                    return self._refuse("has no export register")
                return DeviceReply(True, {"value": logs.export_register, "unit": self.energy_unit})
            case "ReadProfileData":
                return self._read(str(f["profile"]), f["start"], f["end"])
            case "ReadNetworkData":
                reply = self._read("network", f["start"], f["end"])
                if reply.accepted and self.model.fuel == "electricity":
                    reply.values.update(
                        over_voltage_count=logs.over_voltage_count,
                        under_voltage_count=logs.under_voltage_count,
                        measurement_period_s=RMS_MEASUREMENT_PERIOD_S,
                    )
                return reply
            case "ReadDailyConsumptionLog":
                return self._read("daily", f["start"], f["end"])
            case "SetRegister":
                return self._set_register(f["register"], f["unit"], f["value"])
            case "RecordHalfHours":
                if f["profile"] not in PROFILES:
                    return self._refuse(f"has no profile {f['profile']!r} (profiles: {', '.join(PROFILES)})")
                return self._record(str(f["profile"]), f["unit"], f["entries"])
            case "RecordNetworkData":
                return self._record("network", f["unit"], f["entries"])
            case "SetVoltageCounters":
                if self.model.fuel != "electricity":
                    return self._refuse("measures no voltage")
                over, under = f["over_voltage_count"], f["under_voltage_count"]
                if not (_count(over) and _count(under)):
                    return self._refuse("counts only whole numbers of 0 or more")
                logs.over_voltage_count, logs.under_voltage_count = over, under
                return DeviceReply(True)
            case "RecordDailyConsumption":
                return self._record("daily", f["unit"], f["entries"])
        return self._refuse(f"does not understand {command.name}")

    def _refuse(self, why: str) -> DeviceReply:
        return DeviceReply(False, reason=f"{self.model.id} {why}")

    def _kind(self, name: str) -> LogKind | None:
        return self.kinds.get(name)

    def _read(self, name: str, start: Any, end: Any) -> DeviceReply:
        """The entries of log ``name`` starting at or after ``start`` and before ``end``, in time order."""
        kind = self._kind(name)
        if kind is None:
            return self._refuse(f"has no {name} log")
        first, last = _device_seconds(start), _device_seconds(end)
        if first is None or last is None:
            return self._refuse(f"cannot read the times {start!r} to {end!r} (UTC, YYYY-MM-DDThh:mm:ssZ)")
        if last < first:
            return self._refuse(f"cannot read a period that ends ({end}) before it starts ({start})")
        log: dict[str, int] = getattr(self.logs, kind.attribute)
        # Device times are of one width, so they sort as text in time order.
        entries = [{"start": moment, "value": value} for moment, value in log.items() if start <= moment < end]
        return DeviceReply(True, {"unit": kind.unit, "entries": entries})

    def _set_register(self, register: Any, unit: Any, value: Any) -> DeviceReply:
        if register not in ("import", "export") or (register == "export" and "export" not in self.kinds):
            return self._refuse(f"has no {register!r} register")
        if unit != self.energy_unit:
            return self._refuse(f"holds its registers in {self.energy_unit}, not {unit!r}")
        if not _count(value):
            return self._refuse(f"cannot hold {value!r} in a register: a whole number of 0 or more")
        setattr(self.logs, f"{register}_register", value)
        return DeviceReply(True)

    def _record(self, name: str, unit: Any, entries: Any) -> DeviceReply:
        """Add ``entries`` to log ``name`` (a recorded period replaces its value); the oldest go beyond capacity."""
        kind = self._kind(name)
        if kind is None:
            return self._refuse(f"has no {name} log")
        if unit != kind.unit:
            return self._refuse(f"records its {name} log in {kind.unit}, not {unit!r}")
        if not isinstance(entries, list):
            return self._refuse("takes entries as a list")
        added: dict[str, int] = {}
        for index, entry in enumerate(entries):
            moment = entry.get("start") if isinstance(entry, dict) else None
            seconds = _device_seconds(moment)
            value: Any = entry.get("value") if isinstance(entry, dict) else None
            if seconds is None or seconds % kind.period_s or not _count(value):
                return self._refuse(
                    f"cannot record entry {index + 1} ({repr(entry)[:80]}) in its {name} log: it takes the start of "
                    f"{_SPANS[kind.period_s]} (UTC, YYYY-MM-DDThh:mm:ssZ) and a whole number of 0 or more"
                )
            added[str(moment)] = value
        log: dict[str, int] = getattr(self.logs, kind.attribute)
        merged = sorted({**log, **added}.items())
        setattr(self.logs, kind.attribute, dict(merged[-kind.capacity :]))
        return DeviceReply(True)


@dataclass
class MeterState:
    """Everything a Secure meter holds that the Secure clauses touch (money in pence)."""

    payment_mode: str = "credit"
    meter_balance_pence: int = 0
    emergency_credit_in_use: bool = False
    emergency_credit_balance_pence: int = 0
    disablement_threshold_pence: int = 0
    suspend_debt_disabled: bool = False
    suspend_debt_emergency: bool = False
    debt_recovery_per_payment_percent: int = 0
    debt_recovery_rate_cap: int = 0
    emergency_credit_limit_pence: int = 0
    emergency_credit_threshold_pence: int = 0
    low_credit_threshold_pence: int = 0
    max_meter_balance_pence: int = 0
    max_credit_threshold_pence: int = 0
    emergency_credit_auto_activation: bool = False
    load_limit: LoadLimit | None = None
    firmware_version: str = ""
    metering: MeteringLogs = field(default_factory=MeteringLogs)


#: The fields of :class:`MeterState`, in their order (``asdict``'s).
_STATE_FIELDS = tuple(f.name for f in fields(MeterState))


def _state_dict(state: MeterState) -> dict[str, Any]:
    """``dataclasses.asdict(state)``: its values are numbers, text, ``LoadLimit`` and ``MeteringLogs``, whose
    logs map text to numbers (so a copy of each log is a deep one)."""
    plain: dict[str, Any] = {}
    for name in _STATE_FIELDS:
        value = getattr(state, name)
        if isinstance(value, MeteringLogs):
            value = {key: dict(log) if isinstance(log, dict) else log for key, log in vars(value).items()}
        elif value is not None and not isinstance(value, str | int | bool):
            value = asdict(value)
        plain[name] = value
    return plain


class SimulatedMeter:
    """A Secure ESME or GSME."""

    def __init__(self, device_id: str, model: DeviceModel) -> None:
        self.device_id = device_id
        self.model = model
        self.state = MeterState(firmware_version=model.firmware_version)
        self.metering = MeterMetering(model, self.state.metering)

    def handle(self, command: DeviceCommand) -> DeviceReply:
        """Apply one command as the device would."""
        name, f, s = command.name, command.fields, self.state
        if name in _METERING_COMMANDS:
            return self.metering.handle(command)
        if name in _PREPAYMENT_COMMANDS and not self.model.prepayment:
            return DeviceReply(False, reason=f"{self.model.id} has no prepayment functions")
        match name:
            case "AdjustMeterBalance":
                s.meter_balance_pence += int(f["amount_pence"])
            case "ResetMeterBalance":
                s.meter_balance_pence = 0
            case "SetPaymentMode":
                return self._set_payment_mode(f)
            case "SetPrepayConfiguration":
                for key in COMMANDS[name]:  # the meter state keeps every field under the command's own name
                    setattr(s, key, f[key])
            case "ActivateEmergencyCredit":
                return self._activate_emergency_credit()
            case "ReadPrepayValues":
                return DeviceReply(
                    True,
                    {
                        "emergency_credit_balance_pence": s.emergency_credit_balance_pence,
                        "accumulated_debt_pence": 0,
                        "payment_debt_pence": 0,
                        "time_debt_1_pence": 0,
                        "time_debt_2_pence": 0,
                        "meter_balance_pence": s.meter_balance_pence,
                    },
                )
            case "ReadPrepayConfiguration":
                return DeviceReply(True, {k: v for k, v in asdict(s).items() if k not in ("load_limit", "metering")})
            case "ReadMeterBalance":
                return DeviceReply(True, {"meter_balance_pence": s.meter_balance_pence})
            case "SetLoadLimit":
                if not self.model.load_limiting:
                    return DeviceReply(False, reason=f"{self.model.id} has no load limiting")
                watts = int(f["power_threshold_w"])
                if not 0 <= watts <= LOAD_LIMIT_FIELD_MAX_W:
                    return DeviceReply(False, reason=f"threshold {watts} W does not fit the 16-bit field")
                s.load_limit = LoadLimit(watts, int(f["period_s"]), int(f["restoration_period_s"]), f["supply_state"])
            case "ReadLoadLimit":
                return DeviceReply(True, asdict(s.load_limit) if s.load_limit else {})
            case _:
                return DeviceReply(False, reason=f"{self.model.id} does not understand {name}")
        return DeviceReply(True)

    def _set_payment_mode(self, f: dict[str, Any]) -> DeviceReply:
        s = self.state
        mode = f["mode"]
        if mode not in ("credit", "prepayment"):
            return DeviceReply(False, reason=f"unknown payment mode {mode!r}")
        if mode == s.payment_mode:
            return DeviceReply(True, {"changed": False})  # already in force: nothing changes
        if mode == "credit":
            s.payment_mode = "credit"
            s.emergency_credit_in_use = False
            s.emergency_credit_balance_pence = 0
            return DeviceReply(True, {"changed": True})
        s.payment_mode = "prepayment"
        s.disablement_threshold_pence = int(f["disablement_threshold_pence"])
        s.suspend_debt_disabled = bool(f["suspend_debt_disabled"])
        s.suspend_debt_emergency = bool(f["suspend_debt_emergency"])
        s.debt_recovery_per_payment_percent = int(f["debt_recovery_per_payment_percent"])
        s.emergency_credit_in_use = False
        s.emergency_credit_balance_pence = 0
        return DeviceReply(True, {"changed": True})

    def _activate_emergency_credit(self) -> DeviceReply:
        s = self.state
        if s.payment_mode != "prepayment":
            return DeviceReply(False, reason="emergency credit is not available in credit mode")
        if s.emergency_credit_limit_pence == 0:
            return DeviceReply(False, reason="EmergencyCreditLimit is 0 p: emergency credit is not available")
        if s.emergency_credit_in_use:
            return DeviceReply(False, reason="emergency credit is already in use")
        if s.meter_balance_pence > s.emergency_credit_threshold_pence:
            return DeviceReply(
                False,
                reason=(
                    f"meter balance {s.meter_balance_pence} p is above the "
                    f"EmergencyCreditThreshold {s.emergency_credit_threshold_pence} p"
                ),
            )
        s.emergency_credit_in_use = True
        s.emergency_credit_balance_pence = s.emergency_credit_limit_pence
        return DeviceReply(True)

    def snapshot(self) -> dict[str, Any]:
        """State for evidence: ``asdict`` of the state, made without its generic deep copy (taken around every
        request, it was a tenth of a run)."""
        return {"device_model": self.model.id, **_state_dict(self.state)}


#: The commands :class:`MeterMetering` answers: the S1SP's reads and the harness's recordings.
_METERING_COMMANDS = frozenset(
    {"ReadImportRegister", "ReadExportRegister", "ReadProfileData", "ReadNetworkData", "ReadDailyConsumptionLog"}
    | set(HARNESS_COMMANDS)
)

_PREPAYMENT_COMMANDS = frozenset(
    {
        "AdjustMeterBalance",
        "ResetMeterBalance",
        "SetPrepayConfiguration",
        "ActivateEmergencyCredit",
        "ReadPrepayValues",
        "ReadPrepayConfiguration",
        "ReadMeterBalance",
    }
)


@dataclass
class FirmwareTransfer:
    """A firmware update in progress on a HAN: one image, to the devices it was accepted for."""

    image_hash: str
    firmware_version: str
    devices: list[str] = field(default_factory=list)


class SimulatedCommsHub:
    """A Secure Communications Hub: the HAN's join whitelist and its single firmware transfer slot."""

    def __init__(self, device_id: str, han: str, model: DeviceModel) -> None:
        self.device_id = device_id
        self.han = han
        self.model = model
        self.whitelist: dict[str, int] = {}
        self.transfer: FirmwareTransfer | None = None

    def handle(self, command: DeviceCommand) -> DeviceReply:
        """Apply a HAN-level command."""
        f = command.fields
        if command.name == "AddToJoinWhitelist":
            minutes = int(f["join_minutes"])
            lo, hi = JOIN_MINUTES_RANGE
            if not lo <= minutes <= hi:
                return DeviceReply(False, reason=f"join window {minutes} min is outside {lo}..{hi} min")
            joining = f["joining_device"]
            if joining not in self.whitelist and len(self.whitelist) >= WHITELIST_CAPACITY:
                return DeviceReply(False, reason=f"the join whitelist is full ({WHITELIST_CAPACITY} devices)")
            self.whitelist[joining] = minutes
            return DeviceReply(True, {"join_minutes": minutes})
        if command.name == "RemoveFromJoinWhitelist":
            self.whitelist.pop(f["joining_device"], None)
            return DeviceReply(True)
        return DeviceReply(False, reason=f"Communications Hub does not understand {command.name}")

    def snapshot(self) -> dict[str, Any]:
        """State for evidence."""
        return {
            "device_model": self.model.id,
            "han": self.han,
            "join_whitelist_minutes": dict(self.whitelist),
            "firmware_transfer": asdict(self.transfer) if self.transfer else None,
        }


FAULTS = ("no-response", "late-response", "device-error", "reboot-mid-firmware", "dropped-command")


@dataclass(frozen=True)
class Fault:
    """A fault to inject: which, on which command (None: any), after how many good ones."""

    kind: str
    command: str | None = None
    after: int = 0

    @classmethod
    def from_options(cls, options: Mapping[str, str]) -> Fault | None:
        """Read ``fault``, ``fault_command`` and ``fault_after`` adapter options."""
        unknown = set(options) - {"fault", "fault_command", "fault_after", "latency_s"}
        if unknown:
            raise ConfigError(
                f"the simulated adapter has no option {', '.join(sorted(unknown))}",
                "--adapter-option",
                "use fault=KIND, fault_command=NAME, fault_after=N, latency_s=SECONDS",
            )
        kind = options.get("fault")
        if kind is None:
            return None
        if kind not in FAULTS:
            raise ConfigError(f"unknown fault '{kind}'", "--adapter-option fault", f"choose one of {', '.join(FAULTS)}")
        command = options.get("fault_command")
        if command is not None and command not in COMMANDS:
            raise ConfigError(f"unknown command '{command}'", "--adapter-option fault_command")
        after = options.get("fault_after", "0")
        if not after.isdecimal():
            raise ConfigError(f"fault_after '{after}' is not a whole number", "--adapter-option fault_after")
        if kind == "reboot-mid-firmware" and command is None:
            command = "ActivateFirmware"
        return cls(kind, command, int(after))


class SimulatedAdapter(DeviceAdapter):
    """Simulated Secure devices in process (the default); can inject faults."""

    name = "simulated"

    def __init__(
        self, dmc: DMC, meter_ids: tuple[str, ...] | None = None, fault: Fault | None = None, latency_s: float = 0.0
    ) -> None:
        self.dmc = dmc
        self._meter_ids = meter_ids
        self.fault = fault
        self.latency_s = latency_s
        self.reset()

    @classmethod
    def create(cls, dmc: DMC, options: Mapping[str, str]) -> SimulatedAdapter:
        """The estate for ``dmc``; options inject a fault (``fault=KIND`` ...) or a latency per command."""
        latency = options.get("latency_s", "0")
        try:
            latency_s = float(latency)
        except ValueError:
            raise ConfigError(f"latency_s '{latency}' is not a number of seconds", "--adapter-option") from None
        if not 0 <= latency_s <= 60:
            raise ConfigError(f"latency_s {latency_s:g} is outside 0..60 s", "--adapter-option")
        return cls(dmc, fault=Fault.from_options(options), latency_s=latency_s)

    def reset(self) -> None:
        """Rebuild the estate in its starting state (credit mode, zero balance, nothing joined).

        An injected fault's ``fault_after`` counts again from here, so it counts per scenario
        both in process and behind ``s1sr serve-device`` (which resets before each scenario).
        """
        self._matching = 0
        self.hubs: dict[str, SimulatedCommsHub] = {}
        self.meters: dict[str, SimulatedMeter] = {}
        self.han_of: dict[str, str] = {}
        for index, (han, hub_id, meter_id) in enumerate(ESTATE):
            hub = SimulatedCommsHub(hub_id, han, self.dmc.comms_hub)
            self.hubs[han] = hub
            self.han_of[hub_id] = han
            ids = self._meter_ids if (index == 0 and self._meter_ids) else (meter_id,)
            for device_id in ids:
                self.meters[device_id] = SimulatedMeter(device_id, self.dmc.meter)
                self.han_of[device_id] = han

    def execute(self, command: DeviceCommand, timeout_s: float = DEFAULT_TIMEOUT_S) -> DeviceReply:
        """Route a command to the device (or the HAN's hub, for HAN-level commands)."""
        if self.latency_s:
            time.sleep(min(self.latency_s, timeout_s))
        fault = self.fault
        if fault is not None and fault.command in (None, command.name):
            self._matching += 1
            if self._matching > fault.after:
                return self._inject(fault, command, timeout_s)
        return self._route(command)

    def _inject(self, fault: Fault, command: DeviceCommand, timeout_s: float) -> DeviceReply:
        device = command.device_id
        if fault.kind == "no-response":
            time.sleep(timeout_s)
            raise DeviceTimeout(f"{device} did not answer {command.name} within {timeout_s:g} s")
        if fault.kind == "late-response":
            started = time.monotonic()
            self._route(command)  # the device acts, but its answer comes too late
            time.sleep(max(0.0, timeout_s - (time.monotonic() - started)) + 0.05)
            raise DeviceTimeout(f"{device} answered {command.name} after the {timeout_s:g} s timeout")
        if fault.kind == "device-error":
            raise DeviceFault(f"{device} reported a device error on {command.name}")
        if fault.kind == "reboot-mid-firmware":
            han = self.han_of.get(device, "")
            hub = self.hubs.get(han)
            if hub is not None:
                hub.transfer = None  # the reboot loses the image being transferred
            raise DeviceFault(f"{device} rebooted during {command.name}; the firmware transfer on {han} was lost")
        raise DeviceFault(f"{command.name} to {device} was dropped by the link: no acknowledgement")

    def _route(self, command: DeviceCommand) -> DeviceReply:
        han = self.han_of.get(command.device_id)
        if han is None:
            raise DeviceFault(f"no device {command.device_id} in the simulated estate of DMC {self.dmc.id}")
        hub = self.hubs[han]
        if command.name in ("ReadFirmwareStatus", "TransferFirmware", "ActivateFirmware"):
            return self._firmware(hub, command)
        if command.device_id == hub.device_id:
            return hub.handle(command)
        return self.meters[command.device_id].handle(command)

    def _firmware(self, hub: SimulatedCommsHub, command: DeviceCommand) -> DeviceReply:
        f, device = command.fields, command.device_id
        transfer = hub.transfer
        if command.name == "ReadFirmwareStatus":
            return DeviceReply(
                True,
                {
                    "han": hub.han,
                    "update_in_progress": transfer is not None,
                    "image_hash": transfer.image_hash if transfer else "",
                },
            )
        if command.name == "TransferFirmware":
            if transfer is not None and transfer.image_hash != f["image_hash"]:
                return DeviceReply(False, reason=f"a firmware update is already in progress on {hub.han}")
            if transfer is None:
                transfer = hub.transfer = FirmwareTransfer(f["image_hash"], f["firmware_version"])
            if device not in transfer.devices:
                transfer.devices.append(device)
            return DeviceReply(True, {"han": hub.han})
        # ActivateFirmware
        if transfer is None or device not in transfer.devices:
            return DeviceReply(False, {"status": "noImageHeld"}, reason="no firmware image held for this device")
        if transfer.image_hash != f["image_hash"]:
            return DeviceReply(False, {"status": "hashMismatch"}, reason="FirmwareHash does not match the image held")
        target = self.meters.get(device)
        if target is not None:
            target.state.firmware_version = transfer.firmware_version
        transfer.devices.remove(device)
        if not transfer.devices:
            hub.transfer = None  # the update on this HAN is complete
        return DeviceReply(True, {"status": "success", "firmware_version": transfer.firmware_version})

    def snapshot(self) -> dict[str, Any]:
        """Every device's state, by EUI-64."""
        found: dict[str, Any] = {hub.device_id: hub.snapshot() for hub in self.hubs.values()}
        found.update({device_id: meter.snapshot() for device_id, meter in self.meters.items()})
        return found

    def devices(self) -> list[DeviceInfo]:
        """The hubs and meters of the estate."""
        infos = [DeviceInfo(h.device_id, h.model.id, h.model.device_type, h.han) for h in self.hubs.values()]
        infos += [
            DeviceInfo(m.device_id, m.model.id, m.model.device_type, self.han_of[m.device_id])
            for m in self.meters.values()
        ]
        return infos
