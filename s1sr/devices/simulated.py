"""Simulated Secure devices: the built-in, default system under test.

Each class models what the S1SR reading says a Secure device does, in the units
the device holds: money in whole pence, join windows in whole minutes, load
limits in watts in a 16-bit field, and firmware state per HAN.

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

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from s1sr.catalogue import DMC, DeviceModel
from s1sr.devices.adapter import DEFAULT_TIMEOUT_S, DeviceAdapter, DeviceFault, DeviceInfo, DeviceTimeout
from s1sr.devices.commands import COMMANDS, DeviceCommand, DeviceReply
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


class SimulatedMeter:
    """A Secure ESME or GSME."""

    def __init__(self, device_id: str, model: DeviceModel) -> None:
        self.device_id = device_id
        self.model = model
        self.state = MeterState(firmware_version=model.firmware_version)

    def handle(self, command: DeviceCommand) -> DeviceReply:
        """Apply one command as the device would."""
        name, f, s = command.name, command.fields, self.state
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
                return DeviceReply(True, {k: v for k, v in asdict(s).items() if k != "load_limit"})
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
        """State for evidence."""
        return {"device_model": self.model.id, **asdict(self.state)}


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
