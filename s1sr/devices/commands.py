"""The commands a Secure device model understands, in device units (pence, minutes, watts, Wh).

:data:`COMMANDS` are the S1SP's output and a device adapter's input. ``defaults`` records,
for each field the DUIS request did not carry, where its value came from
(e.g. ``"Annex C, S1SR 4.3"``), so evidence shows it.

:data:`HARNESS_COMMANDS` are not the S1SP's: they are how a test puts on a device what it
recorded before the test began (registers, half-hour values), because no DUIS request records
consumption. The harness sends them straight to the adapter, outside any request, so they are
never evidence of what the S1SP sent; an S1SP never sends them.

Metering values are whole numbers in the device's unit, which its replies name (``unit``):
``Wh`` for an ESME's energy, ``dm3`` (litres) for a GSME's gas volume, ``dV`` (tenths of a volt)
for an ESME's RMS voltage. Times are UTC, ISO 8601 to the second: ``2026-11-01T00:30:00Z``. A
logged value is identified by the start of the period it covers (a half hour, a day); a read asks
for the entries whose start is at or after ``start`` and before ``end``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Every command name a device adapter must understand, with its fields.
COMMANDS: dict[str, tuple[str, ...]] = {
    "AdjustMeterBalance": ("amount_pence",),
    "ResetMeterBalance": (),
    "SetPaymentMode": (
        "mode",
        "disablement_threshold_pence",
        "suspend_debt_disabled",
        "suspend_debt_emergency",
        "debt_recovery_per_payment_percent",
    ),
    "SetPrepayConfiguration": (
        "debt_recovery_rate_cap",
        "emergency_credit_limit_pence",
        "emergency_credit_threshold_pence",
        "low_credit_threshold_pence",
        "max_meter_balance_pence",
        "max_credit_threshold_pence",
        "emergency_credit_auto_activation",
    ),
    "ActivateEmergencyCredit": (),
    "ReadPrepayValues": (),
    "ReadPrepayConfiguration": (),
    "ReadMeterBalance": (),
    "SetLoadLimit": ("power_threshold_w", "period_s", "restoration_period_s", "supply_state"),
    "AddToJoinWhitelist": ("joining_device", "join_minutes", "install_code", "join_method"),
    "RemoveFromJoinWhitelist": ("joining_device",),
    "ReadFirmwareStatus": (),
    "TransferFirmware": ("firmware_version", "image_hash", "image_base64", "activation"),
    "ActivateFirmware": ("image_hash",),
    "ReadImportRegister": (),
    "ReadExportRegister": (),
    "ReadProfileData": ("profile", "start", "end"),
    "ReadNetworkData": ("start", "end"),
    "ReadDailyConsumptionLog": ("start", "end"),
}

#: Commands a test sends to put recorded data on a device (never the S1SP's), with their fields.
#: ``entries`` is a list of ``{"start": ISO 8601 UTC, "value": whole number in ``unit``}``.
HARNESS_COMMANDS: dict[str, tuple[str, ...]] = {
    "SetRegister": ("register", "unit", "value"),
    "RecordHalfHours": ("profile", "unit", "entries"),
    "RecordNetworkData": ("unit", "entries"),
    "SetVoltageCounters": ("over_voltage_count", "under_voltage_count"),
    "RecordDailyConsumption": ("unit", "entries"),
}

#: Every command a device endpoint carries: the S1SP's and the harness's.
ALL_COMMANDS: dict[str, tuple[str, ...]] = {**COMMANDS, **HARNESS_COMMANDS}
#: The profiles ``ReadProfileData`` and ``RecordHalfHours`` name: active import (4.8.1), export (4.8.3).
PROFILES = ("active-import", "export")
#: The registers ``SetRegister`` names.
REGISTERS = ("import", "export")


@dataclass(frozen=True)
class DeviceCommand:
    """One command to one device (``device_id`` is its EUI-64)."""

    name: str
    device_id: str
    fields: dict[str, Any] = field(default_factory=dict, hash=False)
    defaults: dict[str, str] = field(default_factory=dict, hash=False)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for evidence."""
        return {
            "name": self.name,
            "device_id": self.device_id,
            "fields": {k: _abbreviate(v) for k, v in self.fields.items()},
            "defaults": dict(self.defaults),
        }


#: Items of a list kept in evidence: a day of half hours and some.
EVIDENCE_ITEMS = 96


def _abbreviate(value: Any) -> Any:
    """Long values (firmware images, a year of log entries) shortened for evidence."""
    if isinstance(value, str) and len(value) > 80:
        return f"{value[:40]}... ({len(value):,} characters)"
    if isinstance(value, list) and len(value) > EVIDENCE_ITEMS:
        return [*value[:EVIDENCE_ITEMS], f"... ({len(value):,} items)"]
    return value


@dataclass(frozen=True)
class DeviceReply:
    """A device's answer: accepted or not, values read, and the device's reason when it refuses."""

    accepted: bool
    values: dict[str, Any] = field(default_factory=dict, hash=False)
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for evidence."""
        return {
            "accepted": self.accepted,
            "values": {k: _abbreviate(v) for k, v in self.values.items()},
            "reason": self.reason,
        }
