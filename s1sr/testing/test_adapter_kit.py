"""The adapter conformance kit's tests (see :mod:`s1sr.testing`)."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest

from s1sr.catalogue import DMC
from s1sr.devices.adapter import DeviceAdapter, DeviceError, DeviceInfo
from s1sr.devices.commands import COMMANDS, DeviceCommand, DeviceReply
from s1sr.devices.registry import adapter_class
from s1sr.errors import ConfigError
from s1sr.testing import one_line

EUI64 = re.compile(r"^[0-9A-F]{2}(-[0-9A-F]{2}){7}$")
HAN_COMMANDS = {"AddToJoinWhitelist", "RemoveFromJoinWhitelist"}
#: A plausible value for every field of every command (device units).
SAMPLE_FIELDS: dict[str, dict[str, Any]] = {
    "AdjustMeterBalance": {"amount_pence": 100},
    "ResetMeterBalance": {},
    "SetPaymentMode": {
        "mode": "prepayment",
        "disablement_threshold_pence": 0,
        "suspend_debt_disabled": False,
        "suspend_debt_emergency": False,
        "debt_recovery_per_payment_percent": 0,
    },
    "SetPrepayConfiguration": {
        "debt_recovery_rate_cap": 0,
        "emergency_credit_limit_pence": 500,
        "emergency_credit_threshold_pence": 100,
        "low_credit_threshold_pence": 200,
        "max_meter_balance_pence": 25000,
        "max_credit_threshold_pence": 25000,
        "emergency_credit_auto_activation": False,
    },
    "ActivateEmergencyCredit": {},
    "ReadPrepayValues": {},
    "ReadPrepayConfiguration": {},
    "ReadMeterBalance": {},
    "SetLoadLimit": {"power_threshold_w": 6900, "period_s": 300, "restoration_period_s": 30, "supply_state": "Disable"},
    "AddToJoinWhitelist": {
        "joining_device": "00-DB-12-34-56-78-90-C1",
        "join_minutes": 2,
        "install_code": "30313233343536373839414243444546",
        "join_method": "install-code",
    },
    "RemoveFromJoinWhitelist": {"joining_device": "00-DB-12-34-56-78-90-C1"},
    "ReadFirmwareStatus": {},
    "TransferFirmware": {
        "firmware_version": "0000KIT1",
        "image_hash": "0" * 64,
        "image_base64": "S0lU",
        "activation": "await-11.3",
    },
    "ActivateFirmware": {"image_hash": "0" * 64},
    "ReadImportRegister": {},
    "ReadExportRegister": {},
    "ReadProfileData": {"profile": "active-import", "start": "2026-11-01T00:00:00Z", "end": "2026-11-02T00:00:00Z"},
    "ReadNetworkData": {"start": "2026-11-01T00:00:00Z", "end": "2026-11-02T00:00:00Z"},
    "ReadDailyConsumptionLog": {"start": "2026-11-01T00:00:00Z", "end": "2026-11-08T00:00:00Z"},
}


def _meter(adapter: DeviceAdapter) -> DeviceInfo:
    return next(d for d in adapter.devices() if d.device_type in ("ESME", "GSME"))


def _hub(adapter: DeviceAdapter, han: str) -> DeviceInfo:
    return next(d for d in adapter.devices() if d.device_type == "CHF" and d.han == han)


def test_the_sample_covers_every_command() -> None:
    """The kit knows a sample of every command the harness sends."""
    assert set(SAMPLE_FIELDS) == set(COMMANDS)
    for name, fields in SAMPLE_FIELDS.items():
        assert set(fields) == set(COMMANDS[name]), name


def test_the_estate_is_listed(kit_adapter: DeviceAdapter, kit_dmc: DMC) -> None:
    """devices() lists EUI-64s, the DMC's meter, and a Communications Hub on its HAN."""
    devices = kit_adapter.devices()
    assert all(EUI64.match(d.device_id) for d in devices), [d.device_id for d in devices]
    meter = _meter(kit_adapter)
    assert meter.device_model == kit_dmc.meter.id
    assert _hub(kit_adapter, meter.han).device_type == "CHF"


def test_the_snapshot_is_json_and_covers_every_device(kit_adapter: DeviceAdapter) -> None:
    """snapshot() is JSON, has every listed device, and gives the meter's payment_mode."""
    snapshot = kit_adapter.snapshot()
    json.dumps(snapshot)
    assert {d.device_id for d in kit_adapter.devices()} <= set(snapshot)
    assert snapshot[_meter(kit_adapter).device_id]["payment_mode"] in ("credit", "prepayment")


def test_reset_restores_the_starting_state(kit_adapter: DeviceAdapter) -> None:
    """A change shows in the snapshot, and reset() undoes it."""
    start = kit_adapter.snapshot()
    meter = _meter(kit_adapter)
    hub = _hub(kit_adapter, meter.han)
    reply = kit_adapter.execute(DeviceCommand("AddToJoinWhitelist", hub.device_id, SAMPLE_FIELDS["AddToJoinWhitelist"]))
    assert reply.accepted, reply.reason
    assert kit_adapter.snapshot() != start, "a join whitelist entry should show in the snapshot"
    kit_adapter.reset()
    assert kit_adapter.snapshot() == start


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_gets_a_reply(kit_adapter: DeviceAdapter, name: str) -> None:
    """Every command gets a DeviceReply; a refusal carries a reason."""
    meter = _meter(kit_adapter)
    target = _hub(kit_adapter, meter.han).device_id if name in HAN_COMMANDS else meter.device_id
    reply = kit_adapter.execute(DeviceCommand(name, target, dict(SAMPLE_FIELDS[name])), timeout_s=10)
    assert isinstance(reply, DeviceReply)
    assert isinstance(reply.accepted, bool)
    assert isinstance(reply.values, dict)
    json.dumps(reply.values)
    if not reply.accepted:
        assert reply.reason, f"{name} refused without a reason"


def test_an_unknown_device_is_a_device_error(kit_adapter: DeviceAdapter) -> None:
    """A command to a device the estate does not hold raises DeviceError."""
    with pytest.raises(DeviceError):
        kit_adapter.execute(DeviceCommand("ReadMeterBalance", "FF-FF-FF-FF-FF-FF-FF-FE", {}))


def test_an_unknown_command_is_refused_or_a_device_error(kit_adapter: DeviceAdapter) -> None:
    """An unknown command is refused with a reason or raises DeviceError, nothing else."""
    try:
        reply = kit_adapter.execute(DeviceCommand("NoSuchCommand", _meter(kit_adapter).device_id, {}))
    except DeviceError:
        return
    assert not reply.accepted and reply.reason


def test_commands_answer_within_their_timeout(kit_adapter: DeviceAdapter) -> None:
    """A simple command answers within the timeout it is given."""
    started = time.monotonic()
    kit_adapter.execute(DeviceCommand("ReadFirmwareStatus", _meter(kit_adapter).device_id, {}), timeout_s=5)
    assert time.monotonic() - started < 5


def test_create_refuses_an_unknown_option(kit_adapter_name: str, kit_dmc: DMC, kit_options: dict[str, str]) -> None:
    """create() refuses an option it does not know, with a ConfigError (any other failure: one line saying so)."""
    try:
        adapter_class(kit_adapter_name).create(kit_dmc, {**kit_options, "no_such_option_xyz": "1"})
        problem = "create() accepted the unknown option no_such_option_xyz"
    except ConfigError:
        return
    except Exception as exc:  # the adapter's own failure, reported as a finding in one line
        problem = f"create() with an unknown option raised {one_line(exc)}, not ConfigError"
    pytest.fail(problem, pytrace=False)  # outside the except: no chained traceback
