"""The example third-party adapter words its refusals and names its HANs its own way, and passes the clause suite.

Features match outcomes by class and HANs by the names the estate under test gives them, so a
rig whose devices say "declined" where the simulated ones say "rejected", and whose HANs are
"rig-1/hub-1" rather than "HAN-A", passes every scenario whose behaviour it meets.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from s1sr.devices.adapter import DeviceInfo
from s1sr.devices.simulated import SimulatedAdapter
from tests.conftest import s1sr

#: Sentences of the simulated devices and the reference S1SP that features once expected.
SIMULATED_WORDING = ("HAN-A", "HAN-B", "credit mode", "already in use", "does not match", "no firmware image held")


def _outcome_texts(results: dict[str, Any]) -> list[str]:
    return [
        str(o["text"]) for s in results["scenarios"] for e in s["evidence"] if e["response_xml"] for o in e["outcomes"]
    ]


def test_the_example_adapter_passes_the_clause_suite_in_its_own_words(
    tmp_path: Path, example_installed: dict[str, str]
) -> None:
    done = s1sr(
        "run", "--adapter", "example-lab", "--dmc", "secure-esme", "--report-dir", str(tmp_path), env=example_installed
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["adapter"] == "example-lab"
    # 202 scenario examples on secure-esme; not applicable: 18.27's 2 gas rows, 18.63's 3 S1SR 4.2 examples,
    # DUIS.1's 3 scenarios for a GSME, and the 32 of the modification packs (not in force)
    assert results["summary"] == {
        "passed": 162, "failed": 0, "error": 0, "waived": 0, "not applicable": 40, "not run": 0,
    }  # fmt: skip
    texts = _outcome_texts(results)
    assert any("rig-1: device 00-DB-12-34-56-78-90-A0: emergency credit request declined" in t for t in texts)
    assert any("already in progress on rig-1/hub-1" in t for t in texts)
    assert any("firmware transfer started on rig-1/hub-2" in t for t in texts)
    said = [t for t in texts if any(w in t for w in SIMULATED_WORDING)]
    assert not said, f"the example adapter should speak its own words: {said[:3]}"


def test_a_han_is_named_as_the_estate_under_test_names_it(tmp_path: Path, example_installed: dict[str, str]) -> None:
    done = s1sr(
        "run", "--adapter", "example-lab", "--adapter-option", "rig=lab-7", "--dmc", "secure-esme",
        "--clause", "18.63", "--report-dir", str(tmp_path), env=example_installed,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["summary"] == {"passed": 13, "failed": 0, "error": 0, "waived": 0, "not applicable": 3, "not run": 0}
    assert any("already in progress on lab-7/hub-1" in t for t in _outcome_texts(results))


class OneHanRig(SimulatedAdapter):
    """A rig that lists every device on one HAN: it cannot stage 18.63's busy and free HANs."""

    name = "one-han-rig"

    def devices(self) -> list[DeviceInfo]:
        return [DeviceInfo(d.device_id, d.device_model, d.device_type, "bench") for d in super().devices()]


def test_an_estate_that_does_not_fit_the_scenario_is_an_error_of_the_rig(tmp_path: Path) -> None:
    done = s1sr(
        "run", "--adapter", "tests.test_example_adapter_suite:OneHanRig", "--dmc", "secure-esme",
        "--clause", "18.63", "--report-dir", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 3, done.stdout + done.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["summary"] == {"passed": 0, "failed": 0, "error": 13, "waived": 0, "not applicable": 3, "not run": 0}
    reasons = {s["reason"] for s in results["scenarios"] if s["outcome"] == "error"}
    assert reasons == {
        "device error: the estate under test does not fit the scenario: both groups of devices are on bench"
    }
