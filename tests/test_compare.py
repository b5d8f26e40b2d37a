"""Compare and re-run: verdicts that changed between two archived runs; a run's failures run again as a new run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, one_line_error, s1sr
from tests.test_archive import FAILED_IDS, FAILING_S1SP, archived, run_in

#: The names of the four scenarios of clause 23 that the failing S1SP fails, in clause-then-file order.
FAILED_NAMES = [
    "SRV 1.6 appends the debt recovery rate from Annex C",
    "SRV 2.1 appends the emergency credit auto-activation from Annex C",
    "SRV 8.11 appends the join method from Annex C",
    "SRV 11.1 appends the activation mode from Annex C",
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """An archive with ``good`` (clause 23 on the ESME, all 7 pass) and ``bad`` (4 of them fail), in that order."""
    archive = tmp_path_factory.mktemp("compare") / "runs"
    good = run_in(archive, "run", "--clause", "23", "--dmc", "secure-esme")
    assert good.returncode == 0, good.stdout + good.stderr
    bad = run_in(archive, "run", "--clause", "23", "--dmc", "secure-esme", "--s1sp", FAILING_S1SP)
    assert bad.returncode == 1, bad.stdout + bad.stderr
    return {"archive": archive, "good": archived(good), "bad": archived(bad)}


def _id(folder: Path) -> str:
    return folder.name.rpartition("-")[2]


def _manifest(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "manifest.json").read_text())
    return data


def test_a_regression_is_listed_first_and_exits_1(runs: dict[str, Path]) -> None:
    good, bad = runs["good"], runs["bad"]
    done = run_in(runs["archive"], "compare", _id(good), _id(bad))
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"A: {good.name} CONFORMANT (7 passed); S1SR 4.3 (clause 23) on secure-esme; S1SP reference"
    assert lines[1] == (
        f"B: {bad.name} NOT CONFORMANT (3 passed, 4 failed); S1SR 4.3 (clause 23) on secure-esme; S1SP {FAILING_S1SP}"
    )
    changes = [line for line in lines if not line.startswith("    ")][2:]
    assert changes == [
        *(f"REGRESSION 23 [secure-esme] {name}: passed -> failed" for name in FAILED_NAMES),
        "4 regressions, 0 fixes, 0 other changes, 0 new, 0 removed",
    ]
    assert lines[3] == (
        "    the S1SP labels SetPaymentMode.disablement_threshold_pence as filled by itself ('Annex C, S1SR 4.3 "
        "(interpretation)'), but the request carried DisablementThreshold: its evidence of where the value came "
        "from is false"
    )


def test_fixes_only_exit_0(runs: dict[str, Path]) -> None:
    done = run_in(runs["archive"], "compare", runs["bad"].name, str(runs["good"]))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[2:] == [
        *(f"FIXED 23 [secure-esme] {name}: failed -> passed" for name in FAILED_NAMES),
        "0 regressions, 4 fixes, 0 other changes, 0 new, 0 removed",
    ]


def test_compare_as_json(runs: dict[str, Path]) -> None:
    done = run_in(runs["archive"], "compare", _id(runs["good"]), _id(runs["bad"]), "--json")
    assert done.returncode == 1, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["versions_differ"] is False
    assert [(c["id"], c["dmc"], c["before"], c["after"]) for c in result["regressions"]] == [
        (scenario, "secure-esme", "passed", "failed") for scenario in FAILED_IDS
    ]
    assert result["fixes"] == result["changes"] == result["new"] == result["removed"] == []
    assert (result["a"]["name"], result["b"]["name"]) == (runs["good"].name, runs["bad"].name)


def test_an_unknown_run_is_one_line_exit_2(runs: dict[str, Path]) -> None:
    line = one_line_error(run_in(runs["archive"], "compare", _id(runs["good"]), "0000000"))
    assert line == (
        f"s1sr: error: run '0000000': names no run in the archive {runs['archive']}; "
        "see s1sr runs, or give --archive-dir"
    )


def test_runs_of_different_versions_compare_and_say_so_first(runs: dict[str, Path]) -> None:
    # 4.2 does not document clause 23: its seven scenarios are not applicable there.
    older = run_in(runs["archive"], "run", "--clause", "23", "--dmc", "secure-esme", "--s1sr-version", "4.2")
    assert older.returncode == 3, older.stdout + older.stderr
    done = run_in(runs["archive"], "compare", str(archived(older)), _id(runs["good"]))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (
        "note: the runs are of different S1SR versions (A 4.2, B 4.3): scenarios are matched by id and DMC all the same"
    )
    assert lines[-1] == "0 regressions, 7 fixes, 0 other changes, 0 new, 0 removed"


def test_a_regression_made_by_an_s1sp_of_another_version(runs: dict[str, Path]) -> None:
    # 18.63: the 4.2 S1SP rejects the whole firmware request when a HAN is busy; 4.3 rejects only that device.
    now = run_in(runs["archive"], "run", "--clause", "18.63", "--dmc", "secure-esme")
    assert now.returncode == 0, now.stdout + now.stderr
    then = run_in(runs["archive"], "run", "--clause", "18.63", "--dmc", "secure-esme", "--s1sp-version", "4.2")
    assert then.returncode == 1, then.stdout + then.stderr
    done = run_in(runs["archive"], "compare", _id(archived(now)), _id(archived(then)))
    assert done.returncode == 1, done.stdout + done.stderr
    regressions = [line for line in done.stdout.splitlines() if line.startswith("REGRESSION ")]
    failed = _manifest(archived(then))["summary"]["failed"]
    assert failed >= 1 and len(regressions) == failed
    assert all(line.startswith("REGRESSION 18.63 [secure-esme] ") for line in regressions)


# --- re-run ---------------------------------------------------------------------------------------------------------


def test_a_rerun_runs_exactly_the_failed_scenarios_as_a_new_linked_run(runs: dict[str, Path]) -> None:
    bad = runs["bad"]
    done = run_in(runs["archive"], "run", "--rerun", _id(bad))
    assert done.returncode == 1, done.stdout + done.stderr
    again = archived(done)
    assert again.parent == runs["archive"] and again != bad
    manifest = _manifest(again)
    assert manifest["rerun_of"] == {"id": _id(bad), "name": bad.name}
    assert manifest["summary"] == {"passed": 0, "failed": 4, "error": 0, "waived": 0, "not applicable": 0, "not run": 0}
    assert manifest["s1sp"] == FAILING_S1SP  # the recorded settings: same S1SP, version, DMC
    assert (manifest["s1sr_version"], manifest["dmc"]) == ("4.3", ["secure-esme"])
    results = json.loads((again / "results.json").read_text())
    assert [s["id"] for s in results["scenarios"]] == FAILED_IDS


def test_a_rerun_with_a_flag_overrides_that_setting_and_fixes_show_in_compare(runs: dict[str, Path]) -> None:
    bad = runs["bad"]
    done = run_in(runs["archive"], "run", "--rerun", bad.name, "--s1sp", "reference")
    assert done.returncode == 0, done.stdout + done.stderr
    again = archived(done)
    manifest = _manifest(again)
    assert manifest["s1sp"] == "reference"
    assert manifest["summary"]["passed"] == 4 and manifest["summary"]["failed"] == 0
    compared = run_in(runs["archive"], "compare", _id(bad), _id(again))
    assert compared.returncode == 0, compared.stdout + compared.stderr
    assert compared.stdout.splitlines()[-1] == "0 regressions, 4 fixes, 0 other changes, 0 new, 3 removed"


def test_nothing_to_rerun_is_one_line_exit_0_and_nothing_archived(runs: dict[str, Path]) -> None:
    before = sorted(p.name for p in runs["archive"].iterdir())
    done = run_in(runs["archive"], "run", "--rerun", _id(runs["good"]))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == (
        f"run {runs['good'].name} has no failed, error or not-run scenario (7 passed): nothing to re-run\n"
    )
    assert sorted(p.name for p in runs["archive"].iterdir()) == before


def test_a_rerun_of_an_unknown_run_is_one_line(runs: dict[str, Path]) -> None:
    line = one_line_error(run_in(runs["archive"], "run", "--rerun", "0000000"))
    assert line.startswith("s1sr: error: run '0000000': names no run in the archive ")


def test_the_last_line_of_a_run_names_its_archive_folder(runs: dict[str, Path], tmp_path: Path) -> None:
    done = run_in(runs["archive"], "run", "--clause", "18.62", "--dmc", "secure-esme", "--report-dir", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.rstrip().splitlines()
    assert lines[-2] == f"report: {tmp_path / 'index.html'} (and results.json, junit.xml, cucumber.json)"
    assert lines[-1].startswith(f"archive: {runs['archive']}/")
    # With --report-dir the journal stays beside the report folder, and the archive keeps a copy.
    kept = archived(done) / "journal.jsonl"
    assert kept.read_bytes() == (tmp_path.parent / f".{tmp_path.name}.s1sr-journal.jsonl").read_bytes()
    assert s1sr("runs", "--archive-dir", str(runs["archive"])).returncode == 0


def test_a_rerun_leaves_out_a_scenario_the_features_no_longer_hold_and_says_so(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    lines = (REPO / "features" / "23-annex-c-defaults.feature").read_text().splitlines(keepends=True)
    start = lines.index("  Scenario: SRV 1.6 appends the debt recovery rate from Annex C\n") - 1  # with its tag
    (tmp_path / "features").mkdir()
    (tmp_path / "features" / "23.feature").write_text("".join(lines[:start] + lines[start + 6 :]))
    done = run_in(runs["archive"], "run", "--rerun", _id(runs["bad"]), "--features", str(tmp_path / "features"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert _manifest(archived(done))["summary"]["failed"] == 3
    assert (
        "s1sr: warning: 1 scenario(s) of the run re-run are no longer in the features (changed since?), for example "
        "test_clauses.py::test_srv_16_appends_the_debt_recovery_rate_from_annex_c[secure-esme]"
    ) in done.stderr
