"""``fault_after=N`` counts from each reset, so it means the same per scenario in process and behind serve-device."""

from __future__ import annotations

import pytest

from s1sr.catalogue import find_dmc
from s1sr.devices.adapter import DeviceError
from s1sr.devices.commands import DeviceCommand
from s1sr.devices.registry import create_adapter
from tests.conftest import serve_device

METER = "00-DB-12-34-56-78-90-A0"
READ = DeviceCommand("ReadMeterBalance", METER, {})
OPTIONS = {"fault": "device-error", "fault_after": "2"}


def _two_good_then_a_fault_after_each_reset(adapter: object) -> None:
    for _ in range(2):  # two scenarios
        adapter.reset()  # type: ignore[attr-defined]
        assert adapter.execute(READ).accepted  # type: ignore[attr-defined]
        assert adapter.execute(READ).accepted  # type: ignore[attr-defined]
        with pytest.raises(DeviceError, match="reported a device error on ReadMeterBalance"):
            adapter.execute(READ)  # type: ignore[attr-defined]


def test_in_process() -> None:
    _two_good_then_a_fault_after_each_reset(create_adapter("simulated", find_dmc("secure-esme"), OPTIONS))


def test_behind_serve_device() -> None:
    with serve_device(
        "secure-esme", "--adapter-option", "fault=device-error", "--adapter-option", "fault_after=2"
    ) as url:
        adapter = create_adapter("remote", find_dmc("secure-esme"), {"url": url})
        try:
            _two_good_then_a_fault_after_each_reset(adapter)
        finally:
            adapter.close()
