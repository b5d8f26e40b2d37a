"""Device models that are wrong on purpose, plugged in through the public adapter API.

Each wraps the simulated estate the way a third-party adapter wraps its rig, and
changes one documented behaviour. ``s1sr run --adapter tests.faulty_devices:NAME``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from s1sr.catalogue import DMC
from s1sr.devices.adapter import DEFAULT_TIMEOUT_S, DeviceAdapter, DeviceInfo
from s1sr.devices.commands import DeviceCommand, DeviceReply
from s1sr.devices.simulated import SimulatedAdapter


class _Wrapped(DeviceAdapter):
    """Delegates to a simulated estate; subclasses alter one command."""

    def __init__(self, dmc: DMC) -> None:
        self.inner = SimulatedAdapter(dmc)

    @classmethod
    def create(cls, dmc: DMC, options: Mapping[str, str]) -> DeviceAdapter:
        return cls(dmc)

    def reset(self) -> None:
        self.inner.reset()

    def execute(self, command: DeviceCommand, timeout_s: float = DEFAULT_TIMEOUT_S) -> DeviceReply:
        return self.alter(command, self.inner.execute(command, timeout_s))

    def alter(self, command: DeviceCommand, reply: DeviceReply) -> DeviceReply:
        return reply

    def snapshot(self) -> dict[str, Any]:
        return self.inner.snapshot()

    def devices(self) -> list[DeviceInfo]:
        return self.inner.devices()

    def meter_state(self, device_id: str) -> Any:
        return self.inner.meters[device_id].state


class IgnoresNegativeAdjustments(_Wrapped):
    """18.3: a negative AdjustMeterBalance leaves the balance unchanged."""

    def execute(self, command: DeviceCommand, timeout_s: float = DEFAULT_TIMEOUT_S) -> DeviceReply:
        if command.name == "AdjustMeterBalance" and command.fields["amount_pence"] < 0:
            return DeviceReply(True)
        return self.inner.execute(command, timeout_s)


class ResetsBalanceOnPrepayment(_Wrapped):
    """18.4: the meter balance is not carried over into prepayment mode."""

    def alter(self, command: DeviceCommand, reply: DeviceReply) -> DeviceReply:
        if command.name == "SetPaymentMode" and command.fields["mode"] == "prepayment" and reply.values.get("changed"):
            self.meter_state(command.device_id).meter_balance_pence = 0
        return reply


class KeepsEmergencyCreditOnCredit(_Wrapped):
    """18.4: emergency credit stays in use after a change to credit mode."""

    def execute(self, command: DeviceCommand, timeout_s: float = DEFAULT_TIMEOUT_S) -> DeviceReply:
        if command.name == "SetPaymentMode" and command.fields["mode"] == "credit":
            state = self.meter_state(command.device_id)
            kept = state.emergency_credit_in_use, state.emergency_credit_balance_pence
            reply = self.inner.execute(command, timeout_s)
            state.emergency_credit_in_use, state.emergency_credit_balance_pence = kept
            return reply
        return self.inner.execute(command, timeout_s)


class ZeroLimitActivates(_Wrapped):
    """18.5: emergency credit activates with an EmergencyCreditLimit of 0 p."""

    def execute(self, command: DeviceCommand, timeout_s: float = DEFAULT_TIMEOUT_S) -> DeviceReply:
        if command.name == "ActivateEmergencyCredit":
            state = self.meter_state(command.device_id)
            if state.payment_mode == "prepayment" and state.emergency_credit_limit_pence == 0:
                state.emergency_credit_in_use = True
                return DeviceReply(True)
        return self.inner.execute(command, timeout_s)


class LimitMinusBalance(_Wrapped):
    """18.8: activation makes only the limit minus the meter balance available."""

    def alter(self, command: DeviceCommand, reply: DeviceReply) -> DeviceReply:
        if command.name == "ActivateEmergencyCredit" and reply.accepted:
            state = self.meter_state(command.device_id)
            state.emergency_credit_balance_pence -= max(state.meter_balance_pence, 0)
        return reply


class ReportsTenthPence(_Wrapped):
    """18.16: the meter reports its balance in tenths of a penny."""

    def alter(self, command: DeviceCommand, reply: DeviceReply) -> DeviceReply:
        if command.name in ("ReadMeterBalance", "ReadPrepayValues") and reply.accepted:
            values = dict(reply.values)
            values["meter_balance_pence"] = values["meter_balance_pence"] * 10
            return DeviceReply(True, values)
        return reply


class DropsLowCreditThreshold(_Wrapped):
    """18.27: the meter does not store LowCreditThreshold."""

    def alter(self, command: DeviceCommand, reply: DeviceReply) -> DeviceReply:
        if command.name == "SetPrepayConfiguration":
            self.meter_state(command.device_id).low_credit_threshold_pence = 0
        return reply


class ClampsLoadLimit(_Wrapped):
    """18.37: the meter stores a threshold at the top of its range as 65000 W."""

    def alter(self, command: DeviceCommand, reply: DeviceReply) -> DeviceReply:
        state = self.inner.meters.get(command.device_id)
        if command.name == "SetLoadLimit" and reply.accepted and state is not None and state.state.load_limit:
            state.state.load_limit.power_threshold_w = min(state.state.load_limit.power_threshold_w, 65000)
        return reply


class FloorsJoinWindow(_Wrapped):
    """18.62: the Communications Hub opens a join window one minute shorter when minutes are not whole."""

    def alter(self, command: DeviceCommand, reply: DeviceReply) -> DeviceReply:
        if command.name == "AddToJoinWhitelist" and reply.accepted:
            for hub in self.inner.hubs.values():
                if hub.device_id == command.device_id:
                    joining = command.fields["joining_device"]
                    hub.whitelist[joining] = max(1, hub.whitelist[joining] - 1)
        return reply


class HidesFirmwareInProgress(_Wrapped):
    """18.63: the HAN never reports a firmware update in progress."""

    def alter(self, command: DeviceCommand, reply: DeviceReply) -> DeviceReply:
        if command.name == "ReadFirmwareStatus":
            return DeviceReply(True, {**reply.values, "update_in_progress": False})
        if command.name == "TransferFirmware" and not reply.accepted:
            return DeviceReply(True, {"han": "HAN-A"})  # and silently takes the second image
        return reply


class CrashesOnThirdCommand(_Wrapped):
    """Not a wrong device but a broken adapter: it raises an unexpected exception mid-scenario."""

    def execute(self, command: DeviceCommand, timeout_s: float = DEFAULT_TIMEOUT_S) -> DeviceReply:
        self.count = getattr(self, "count", 0) + 1
        if self.count == 3:
            raise RuntimeError("adapter bug: lost its serial port")
        return self.inner.execute(command, timeout_s)


class HangsForever(_Wrapped):
    """A broken adapter that ignores timeout_s and never returns from ActivateEmergencyCredit."""

    def execute(self, command: DeviceCommand, timeout_s: float = DEFAULT_TIMEOUT_S) -> DeviceReply:
        if command.name == "ActivateEmergencyCredit":
            threading.Event().wait()  # forever
        return self.inner.execute(command, timeout_s)
