"""The commands a Secure device model understands, in device units (pence, minutes, watts).

These are the S1SP's output and a device adapter's input. ``defaults`` records,
for each field the DUIS request did not carry, where its value came from
(e.g. ``"Annex C, S1SR 4.3"``), so evidence shows it.
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
}


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


def _abbreviate(value: Any) -> Any:
    """Long values (firmware images) shortened for evidence."""
    if isinstance(value, str) and len(value) > 80:
        return f"{value[:40]}... ({len(value):,} characters)"
    return value


@dataclass(frozen=True)
class DeviceReply:
    """A device's answer: accepted or not, values read, and the device's reason when it refuses."""

    accepted: bool
    values: dict[str, Any] = field(default_factory=dict, hash=False)
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for evidence."""
        return {"accepted": self.accepted, "values": dict(self.values), "reason": self.reason}
