"""Injected faults end scenarios as `error` with the reason in the evidence; never `passed`, nothing hangs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, s1sr

REASONS = {
    "no-response": "did not answer AddToJoinWhitelist within 0.3 s",
    "late-response": "answered AddToJoinWhitelist after the 0.3 s timeout",
    "device-error": "reported a device error on AddToJoinWhitelist",
    "dropped-command": "was dropped by the link",
}


def _results(folder: Path) -> list[dict[str, object]]:
    scenarios: list[dict[str, object]] = json.loads((folder / "results.json").read_text())["scenarios"]
    return scenarios


@pytest.mark.parametrize("fault", sorted(REASONS))
def test_a_fault_on_every_command_makes_every_scenario_an_error(tmp_path: Path, fault: str) -> None:
    started = time.monotonic()
    done = s1sr(
        "run", "--dmc", "secure-esme", "--clause", "18.62", "--timeout", "0.3",
        "--adapter-option", f"fault={fault}", "--adapter-option", "fault_command=AddToJoinWhitelist",
        "--report-dir", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 3, done.stdout + done.stderr
    scenarios = _results(tmp_path)
    add = [s for s in scenarios if "Removing" not in str(s["name"]) and "outside DUIS" not in str(s["name"])]
    assert add and {s["outcome"] for s in add} == {"error"}
    assert all(REASONS[fault] in str(s["reason"]) for s in add), [s["reason"] for s in add]
    assert time.monotonic() - started < 120


def test_a_reboot_mid_firmware_update_is_an_error(tmp_path: Path) -> None:
    done = s1sr(
        "run", "--dmc", "secure-esme", "--clause", "18.63", "--adapter-option", "fault=reboot-mid-firmware",
        "--report-dir", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 3
    by_name = {str(s["name"]): s for s in _results(tmp_path)}
    activation = by_name["Activating the image ends the update, and the HAN takes a new one"]
    assert activation["outcome"] == "error"
    assert "rebooted during ActivateFirmware; the firmware transfer on HAN-A was lost" in str(activation["reason"])
    assert by_name["A request for devices on free HANs only succeeds"]["outcome"] == "passed"


def test_a_fault_after_good_commands_hits_mid_scenario(tmp_path: Path) -> None:
    done = s1sr(
        "run", "--dmc", "secure-esme", "--clause", "18.8", "--adapter-option", "fault=device-error",
        "--adapter-option", "fault_command=ActivateEmergencyCredit", "--report-dir", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 3
    outcomes = {s["outcome"] for s in _results(tmp_path)}
    assert outcomes == {"error"}


@pytest.fixture
def faulty_endpoint() -> Iterator[str]:
    server = subprocess.Popen(
        [sys.executable, "-m", "s1sr", "serve-device", "--dmc", "secure-esme", "--port", "0",
         "--adapter-option", "fault=no-response", "--adapter-option", "fault_command=ReadMeterBalance"],
        stdout=subprocess.PIPE, text=True, cwd=REPO,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        yield line.split(" on ")[1].split()[0]
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_remote_device_that_does_not_answer_is_an_error(tmp_path: Path, faulty_endpoint: str) -> None:
    done = s1sr(
        "run", "--adapter", "remote", "--device-url", faulty_endpoint, "--dmc", "secure-esme",
        "--clause", "18.3", "--timeout", "0.3", "--report-dir", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 3, done.stdout + done.stderr
    scenarios = _results(tmp_path)
    assert {s["outcome"] for s in scenarios} == {"error"}
    assert all("did not answer ReadMeterBalance within 0.3 s" in str(s["reason"]) for s in scenarios)


def test_an_adapter_that_ignores_its_timeout_cannot_hang_the_run(tmp_path: Path) -> None:
    started = time.monotonic()
    done = s1sr(
        "run", "--adapter", "tests.faulty_devices:HangsForever", "--dmc", "secure-esme", "--clause", "18.8",
        "--timeout", "0.2", "--report-dir", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 3, done.stdout + done.stderr
    scenarios = _results(tmp_path)
    assert {s["outcome"] for s in scenarios} == {"error"}
    assert all("did not return from ActivateEmergencyCredit" in str(s["reason"]) for s in scenarios)
    assert time.monotonic() - started < 120  # 10 scenarios x (0.2 s + 2 s grace), not forever
