"""Step kinds: a device-side step a target cannot observe is shown as not observable, never a pass in
disguise and never a failure; what a User alone can judge is counted per clause."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

import pytest

from s1sr.observability import DEVICE_COMMANDS, DEVICE_STATE, can_observe, device_side
from tests.conftest import run_mutant, s1sr

BLIND = ("--", "-p", "tests.blind_user")


def test_a_blind_run_passes_and_counts_every_device_side_step_it_could_not_observe(tmp_path: Path) -> None:
    done = s1sr("run", "--clause", "18.62", "--dmc", "secure-esme", "--report-dir", str(tmp_path), *BLIND)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "19 of them with 34 device-side step(s) not observable on this target" in done.stdout
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["summary"]["passed"] == 19
    # 12 outline rows x 2 (received, state) + 3 refusals x 1 (no command) + 1 + 2 + 2 install codes x 2
    assert results["not_observable"] == {"steps": 34, "passed_scenarios": 19}
    first = next(s for s in results["scenarios"] if s["name"].startswith("A JoinTimePeriod of 59 s"))
    assert [st["status"] for st in first["steps"]] == ["passed", "passed", "not observable", "not observable"]
    assert first["not_observed"] == [
        "And the Communications Hub received AddToJoinWhitelist with join_minutes 1",
        "And the Communications Hub state shows join_whitelist_minutes.00-DB-12-34-56-78-90-C1 1",
    ]
    suite = ET.parse(tmp_path / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    properties = {p.get("name"): p.get("value") for p in suite.find("properties").iter("property")}  # type: ignore[union-attr]
    assert properties["not_observable_steps"] == "34"
    assert 'id="not-observable"' in (tmp_path / "index.html").read_text()


def test_an_in_process_run_observes_everything(tmp_path: Path) -> None:
    done = s1sr("run", "--clause", "18.62", "--dmc", "secure-esme", "--report-dir", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["not_observable"] == {"steps": 0, "passed_scenarios": 0}
    assert results["verdict_reason"] == "all 19 applicable scenario(s) passed"
    assert 'id="not-observable"' not in (tmp_path / "index.html").read_text()


def test_a_blind_run_still_fails_a_wrong_s1sp_on_what_a_user_sees(tmp_path: Path) -> None:
    # 18.16 reads balances back through DUIS: a User sees the rounding.
    done = run_mutant(
        "rounds_pence", "run", "--clause", "18.16", "--dmc", "secure-esme", "--report-dir", str(tmp_path), *BLIND
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert json.loads((tmp_path / "results.json").read_text())["verdict"] == "NOT CONFORMANT"


def test_a_device_side_failure_is_not_observable_when_blind_and_a_failure_when_seen(tmp_path: Path) -> None:
    # Flooring join minutes shows in what the hub received and holds; a User sees it only where the
    # hub refuses the 0 min it was sent (1 s and 59 s).
    seen = run_mutant("floors_join_minutes", "run", "--clause", "18.62", "--dmc", "secure-esme")
    assert seen.returncode == 1, seen.stdout + seen.stderr
    assert "9 passed, 10 failed, 0 error" in seen.stdout
    assert "FAILED 18.62 [secure-esme] A JoinTimePeriod of 61 s reaches the Communications Hub as 2 min" in seen.stdout
    blind = run_mutant(
        "floors_join_minutes", "run", "--clause", "18.62", "--dmc", "secure-esme", "--report-dir", str(tmp_path), *BLIND
    )
    assert blind.returncode == 1, blind.stdout + blind.stderr
    assert "17 passed, 2 failed, 0 error" in blind.stdout
    by_name = {s["name"]: s for s in json.loads((tmp_path / "results.json").read_text())["scenarios"]}
    row_61 = by_name["A JoinTimePeriod of 61 s reaches the Communications Hub as 2 min"]
    assert row_61["outcome"] == "passed" and len(row_61["not_observed"]) == 2
    assert by_name["A JoinTimePeriod of 59 s reaches the Communications Hub as 1 min"]["outcome"] == "failed"


def test_clauses_count_the_scenarios_a_user_alone_can_judge() -> None:
    done = s1sr("clauses", "--json")
    assert done.returncode == 0, done.stderr
    rows = {r["id"]: r for r in json.loads(done.stdout)}
    assert (rows["18.62"]["scenarios"], rows["18.62"]["observable_over_duis"]) == (19, 0)
    # The one 18.62 scenario without a received-command step: the whitelist left after a removal.
    assert rows["18.62"]["observable_over_duis_with_rig"] == 1
    assert (rows["18.16"]["scenarios"], rows["18.16"]["observable_over_duis"]) == (7, 7)
    assert (rows["18.8"]["scenarios"], rows["18.8"]["observable_over_duis"]) == (11, 11)
    table = s1sr("clauses")
    assert "over DUIS" in table.stdout


def test_a_device_side_step_runs_only_with_its_view() -> None:
    calls: list[str] = []

    @device_side(DEVICE_STATE)
    def step(user: object) -> str:
        calls.append("ran")
        return "judged"

    seeing = SimpleNamespace(observes=frozenset({DEVICE_STATE}), not_observed=[])
    assert step(user=seeing) == "judged" and seeing.not_observed == []
    blind = SimpleNamespace(observes=frozenset({DEVICE_COMMANDS}), not_observed=[])
    assert step(user=blind) is None and blind.not_observed == [DEVICE_STATE]
    assert calls == ["ran"]
    assert can_observe(blind, DEVICE_COMMANDS) and blind.not_observed == [DEVICE_STATE]
    with pytest.raises(ValueError, match="unknown device view"):
        device_side("device-mood")
