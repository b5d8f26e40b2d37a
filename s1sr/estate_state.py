"""The state a simulated estate starts in for ``s1sr translate``: payment mode, balances, a firmware image held.

A fresh estate is in credit mode, every balance and threshold 0, no firmware image held, which
is not what every DUIS request presumes: SRV 2.5 (activate emergency credit) needs a meter in
prepayment with an emergency credit limit, SRV 11.3 (activate firmware) an image already held.
A :class:`StartingState` says what to set, read from a small flat TOML file (``--state FILE``)
and ``--set KEY=VALUE`` options (which win over the file), with the same keys::

    # estate.toml: every key optional; money in whole pence, as the device holds it
    payment_mode = "prepayment"            # "credit" (a fresh meter's) or "prepayment"
    meter_balance_pence = 250              # added to the fresh balance of 0 (negative: debt)
    emergency_credit_limit_pence = 500
    firmware_hash = "AA7586...6677"        # SHA-256 of an image held for each meter (64 hex digits)
    firmware_version = "0002012F"          # the version that image carries (1 to 8 characters)

The state is applied as device commands sent straight to the device adapter before the
first request (never through the S1SP, never in its evidence), so a device refuses a state
it cannot hold (prepayment on a credit-only meter) as a lab device would.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s1sr.devices.adapter import DeviceAdapter
from s1sr.devices.commands import COMMANDS, DeviceCommand
from s1sr.errors import InputError
from s1sr.toml_file import read_toml_file

#: Whole pence a DUIS money value can carry: 2^31 - 1 DUIS units (electricity, xs:int) is 2,147,483 p.
MAX_PENCE = 2_147_483
#: Largest state file read: a handful of keys.
MAX_STATE_BYTES = 64 * 1024
#: The payment modes a meter can start in.
PAYMENT_MODES = ("credit", "prepayment")


@dataclass(frozen=True)
class StateKey:
    """One key of the starting state: its kind (``int``, ``bool``, ``mode``, ``hash``, ``version``) and range."""

    name: str
    kind: str
    lo: int = 0
    hi: int = 0
    meaning: str = ""

    def allowed(self) -> str:
        """What the key takes, in words."""
        if self.kind == "int":
            return f"a whole number from {self.lo} to {self.hi}"
        if self.kind == "bool":
            return "true or false"
        if self.kind == "mode":
            return " or ".join(f'"{m}"' for m in PAYMENT_MODES)
        if self.kind == "hash":
            return "64 hex digits (the SHA-256 FirmwareHash that SRV 11.3 names)"
        return "1 to 8 characters (a DUIS FirmwareVersion)"


KEYS: dict[str, StateKey] = {
    k.name: k
    for k in (
        StateKey("payment_mode", "mode", meaning="the meter's payment mode"),
        StateKey("meter_balance_pence", "int", -MAX_PENCE, MAX_PENCE, "added to the fresh balance of 0 p"),
        StateKey("disablement_threshold_pence", "int", -MAX_PENCE, MAX_PENCE, "prepayment only"),
        StateKey("suspend_debt_disabled", "bool", meaning="prepayment only"),
        StateKey("suspend_debt_emergency", "bool", meaning="prepayment only"),
        StateKey("debt_recovery_per_payment_percent", "int", 0, 100, "prepayment only"),
        StateKey("debt_recovery_rate_cap", "int", 0, 65535),
        StateKey("emergency_credit_limit_pence", "int", 0, MAX_PENCE),
        StateKey("emergency_credit_threshold_pence", "int", 0, MAX_PENCE),
        StateKey("low_credit_threshold_pence", "int", 0, MAX_PENCE),
        StateKey("max_meter_balance_pence", "int", 0, MAX_PENCE),
        StateKey("max_credit_threshold_pence", "int", 0, MAX_PENCE),
        StateKey("emergency_credit_auto_activation", "bool"),
        StateKey("firmware_hash", "hash", meaning="an image held on the meter's HAN, awaiting SRV 11.3"),
        StateKey("firmware_version", "version", meaning="the version of that image"),
    )
}

#: Keys that only a meter in prepayment takes (SetPaymentMode's prepayment fields).
_PREPAYMENT_ONLY = ("disablement_threshold_pence", "suspend_debt_disabled", "suspend_debt_emergency")
#: SetPrepayConfiguration's fields: given one, the others are sent as 0 / false (a fresh meter's values).
_CONFIGURATION = COMMANDS["SetPrepayConfiguration"]


@dataclass(frozen=True)
class StartingState:
    """What to set in a fresh estate before the first request; empty: the fresh estate as it is."""

    values: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.values)

    def commands(self, meters: Sequence[str], activation: str) -> list[DeviceCommand]:
        """The device commands that put each meter in this state (``activation``: 11.1's Annex C value)."""
        v = self.values
        found: list[DeviceCommand] = []
        for meter in meters:
            if "payment_mode" in v:
                prepayment = v["payment_mode"] == "prepayment"
                found.append(
                    DeviceCommand(
                        "SetPaymentMode",
                        meter,
                        {
                            "mode": v["payment_mode"],
                            "disablement_threshold_pence": v.get("disablement_threshold_pence", 0) if prepayment else 0,
                            "suspend_debt_disabled": v.get("suspend_debt_disabled", False),
                            "suspend_debt_emergency": v.get("suspend_debt_emergency", False),
                            "debt_recovery_per_payment_percent": v.get("debt_recovery_per_payment_percent", 0),
                        },
                    )
                )
            if any(k in v for k in _CONFIGURATION):
                fields = {k: v.get(k, False if k == "emergency_credit_auto_activation" else 0) for k in _CONFIGURATION}
                found.append(DeviceCommand("SetPrepayConfiguration", meter, fields))
            if v.get("meter_balance_pence"):
                found.append(DeviceCommand("AdjustMeterBalance", meter, {"amount_pence": v["meter_balance_pence"]}))
            if "firmware_hash" in v:
                # The device holds the image by its hash; translate never has its bytes.
                fields = {
                    "firmware_version": v["firmware_version"],
                    "image_hash": v["firmware_hash"],
                    "image_base64": "",
                    "activation": activation,
                }
                found.append(DeviceCommand("TransferFirmware", meter, fields))
        return found

    def apply(self, adapter: DeviceAdapter, meters: Sequence[str], activation: str, timeout_s: float) -> None:
        """Send :meth:`commands` to ``adapter``; a device that refuses one is bad input (one line)."""
        for command in self.commands(meters, activation):
            reply = adapter.execute(command, timeout_s)
            if not reply.accepted:
                raise InputError(
                    f"{command.device_id} refused {command.name} ({reply.reason})",
                    "the starting state (--state, --set)",
                    "give a state this device model can hold",
                )


def load_state(path: Path | None, settings: Sequence[str]) -> StartingState:
    """The starting state from a TOML file and ``KEY=VALUE`` settings (a setting wins over the file)."""
    values: dict[str, Any] = {}
    if path is not None:
        values.update(_read_file(path))
    for setting in settings:
        name, sep, text = setting.partition("=")
        where = f"--set {setting}"
        if not sep:
            raise InputError("is not KEY=VALUE", where, "e.g. --set payment_mode=prepayment")
        key = _known(name.strip(), where)
        values[key.name] = _from_text(key, text.strip(), where)
    _check_together(values, "--state/--set")
    return StartingState(values)


def _read_file(path: Path) -> dict[str, Any]:
    where = f"--state {path}"
    table = read_toml_file(
        path,
        where,
        MAX_STATE_BYTES,
        kind="name a TOML file",
        too_big="a starting state is a handful of keys",
        shape="write KEY = VALUE lines",
    )
    values: dict[str, Any] = {}
    for name, value in table.items():
        key = _known(name, where)
        values[key.name] = _typed(key, value, f"{where}: {name}")
    return values


def _known(name: str, where: str) -> StateKey:
    if name in KEYS:
        return KEYS[name]
    near = difflib.get_close_matches(name, list(KEYS), n=1)
    hint = f"did you mean {near[0]}?" if near else f"the keys are {', '.join(KEYS)}"
    raise InputError(f"unknown key '{name[:60]}'", where, hint)


def _typed(key: StateKey, value: object, where: str) -> Any:
    """A TOML value checked against ``key``."""
    if key.kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise InputError(f"{_shown(value)} is not a whole number", where, f"give {key.allowed()}")
        if not key.lo <= value <= key.hi:
            raise InputError(f"{value} is outside {key.lo}..{key.hi}", where, f"give {key.allowed()}")
        return value
    if key.kind == "bool":
        if not isinstance(value, bool):
            raise InputError(f"{_shown(value)} is not true or false", where)
        return value
    if not isinstance(value, str):
        raise InputError(f"{_shown(value)} is not text", where, f"give {key.allowed()}")
    return _from_text(key, value, where)


def _from_text(key: StateKey, text: str, where: str) -> Any:
    """A value written as text (``--set``, or a TOML string) checked against ``key``."""
    if key.kind == "int":
        if not re.fullmatch(r"[+-]?[0-9]{1,12}", text):
            raise InputError(f"'{text[:60]}' is not a whole number", where, f"give {key.allowed()}")
        return _typed(key, int(text), where)
    if key.kind == "bool":
        if text not in ("true", "false"):
            raise InputError(f"'{text[:60]}' is not true or false", where)
        return text == "true"
    if key.kind == "mode":
        if text not in PAYMENT_MODES:
            raise InputError(f"'{text[:60]}' is not a payment mode", where, f"give {key.allowed()}")
        return text
    if key.kind == "hash":
        if not re.fullmatch(r"[0-9A-Fa-f]{64}", text):
            raise InputError(f"'{text[:60]}' is not 64 hex digits", where, f"give {key.allowed()}")
        return text.upper()
    if not 1 <= len(text) <= 8:
        raise InputError(f"'{text[:60]}' has {len(text)} characters", where, f"give {key.allowed()}")
    return text


def _check_together(values: Mapping[str, Any], where: str) -> None:
    """Keys that only make sense with another one."""
    for name in _PREPAYMENT_ONLY:
        if name in values and values.get("payment_mode") != "prepayment":
            raise InputError(f"{name} is a prepayment setting", where, 'add payment_mode = "prepayment"')
    if ("firmware_hash" in values) != ("firmware_version" in values):
        raise InputError(
            "firmware_hash and firmware_version go together", where, "give both: the image held and its version"
        )


def _shown(value: object) -> str:
    text = repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
    return text[:60]
