"""benchmarks/: issue 10's goals judged at their bounds, the figures read from runs, and the one command working.

Nothing here asserts on a time: the figures judged are given literally; the end-to-end runs check only that
each command runs, reports and cleans up.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks import goals, release
from s1sr.duis.schema import DuisSchema
from s1sr.errors import InputError

REPO = Path(__file__).resolve().parent.parent
ALL = REPO / "benchmarks" / "all.py"

SIGNING = goals.GOALS["(sign + verify) / raw ECDSA sign"]
ROUND_TRIP = goals.GOALS["S1SP round trip with User-side verify, one core"]
FLAT = goals.GOALS["gate: time per DMC, smallest to largest count"]


@pytest.mark.parametrize(
    ("value", "verdict"),
    [(4.0, "met"), (4.004, "met"), (4.006, "not met"), (4.01, "not met"), (0.5, "met"), (None, "not measured")],
)
def test_at_most_is_judged_as_printed_exactly_the_bound_is_met(value: float | None, verdict: str) -> None:
    assert SIGNING.verdict(value) == verdict


@pytest.mark.parametrize(("value", "verdict"), [(3000.0, "met"), (2999.4, "not met"), (2998.0, "not met")])
def test_at_least_is_met_from_the_bound_up(value: float, verdict: str) -> None:
    assert ROUND_TRIP.verdict(value) == verdict


@pytest.mark.parametrize(
    ("value", "verdict"), [(10.0, "met"), (-10.0, "met"), (10.4, "met"), (10.6, "not met"), (-11.0, "not met")]
)
def test_within_is_judged_either_way(value: float, verdict: str) -> None:
    assert FLAT.verdict(value) == verdict


def test_targets_and_figures_are_printed_with_their_units() -> None:
    assert SIGNING.target() == "at most 4.00x"
    assert ROUND_TRIP.target() == "at least 3,000 requests/s"
    assert FLAT.target() == "within ±10 %"
    assert FLAT.shown(3.1) == "+3 %"
    assert goals.GOALS["project's own tests (pytest, parallel)"].target() == "at most 72.5 s"


def _gate_run(dmcs: int, workers: int, wall_s: float, peak: float, page_bytes: int, load: float) -> dict[str, Any]:
    return {
        "version": "4.3", "dmcs": dmcs, "workers": workers, "scenarios": 202 * dmcs, "wall_s": wall_s,
        "peak_rss_mib": peak, "page_bytes": page_bytes, "results_bytes": 1, "page_load_s": load,
    }  # fmt: skip


FIGURES: dict[str, dict[str, Any]] = {
    "throughput": {"s1sp_verified_requests_per_s": 3000.0},
    "signing": {"ratio": 4.01, "responses": 48},
    "release": {"ratio_per_request": 0.5, "ratio_total": 0.81, "baseline": {"label": "27eb755 (baseline)"}},
    "gate": {
        "runs": [
            _gate_run(10, 1, 24.0, 349.0, 3_400_000, 0.66),
            _gate_run(10, 2, 16.0, 265.0, 3_400_000, 0.62),
            _gate_run(40, 1, 99.0, 1134.0, 11_900_000, 1.77),  # 2.475 s per DMC against 2.4: +3 %
            _gate_run(40, 2, 58.0, 818.0, 11_900_000, 1.80),  # 99 / 58 = 1.707: 1.71x
        ]
    },
    "pools": {"speedup": 2.99, "rigs": 4},
}


def test_every_goal_is_judged_from_given_figures() -> None:
    rows = {r.goal.name: (r.measured, r.verdict) for r in goals.judge(FIGURES, 72.5)}
    assert rows == {
        "S1SP round trip with User-side verify, one core": ("3,000 requests/s", "met"),
        "(sign + verify) / raw ECDSA sign": ("4.01x", "not met"),
        "default s1sr run, current / baseline, per request": ("0.50x", "met"),
        "gate: --workers 2 speed-up over serial": ("1.71x", "met"),
        "gate: peak memory of any one process": ("1,134 MiB", "not met"),
        "gate: index.html size": ("11.9 MB", "not met"),
        "gate: time per DMC, smallest to largest count": ("+3 %", "met"),
        "gate: index.html loaded in headless Chromium": ("1.80 s", "met"),
        "lab-rig pool speed-up, 4 rigs over 1": ("2.99x", "not met"),
        "project's own tests (pytest, parallel)": ("72.5 s", "met"),
    }


def test_a_benchmark_not_run_leaves_its_goals_not_measured_and_says_so() -> None:
    rows = goals.judge({"signing": FIGURES["signing"]}, None)
    verdicts = {r.goal.name: r.verdict for r in rows}
    assert verdicts["(sign + verify) / raw ECDSA sign"] == "not met"
    assert list(verdicts.values()).count("not measured") == 9
    notes = {r.goal.name: r.note for r in rows}
    assert notes["gate: index.html size"] == "benchmarks/gate.py not run"
    assert notes["project's own tests (pytest, parallel)"].startswith("not measured here: pass --tests-seconds")


def test_the_table_has_one_aligned_line_per_goal() -> None:
    lines = goals.table(goals.judge(FIGURES, None)).splitlines()
    assert len(lines) == 2 + len(goals.GOALS)
    assert lines[0].split()[:4] == ["goal", "target", "measured", "verdict"]
    verdict_column = lines[0].index("verdict")
    signing = next(line for line in lines if line.startswith("(sign + verify)"))
    assert signing[verdict_column:].startswith("not met ")
    tests = next(line for line in lines if line.startswith("project's own tests"))
    assert tests[verdict_column:].startswith("not measured ")


def test_the_tests_wall_time_is_read_from_junit_or_from_pytests_closing_line(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    junit.write_text('<?xml version="1.0"?><testsuites><testsuite name="pytest" time="81.234"/></testsuites>')
    assert goals.tests_seconds_from(junit) == 81.234
    log = tmp_path / "pytest.log"
    log.write_text("created: 2/2 workers\n........\n===== 912 passed, 3 skipped in 76.50s (0:01:16) =====\n")
    assert goals.tests_seconds_from(log) == 76.5
    log.write_text("........\n1453 passed, 94 skipped in 527.24s (0:08:47)\n")  # -q: no rules
    assert goals.tests_seconds_from(log) == 527.24


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("<testsuites><testsuite name='pytest'/></testsuites>", "no <testsuite time=...> in this junit file"),
        ("<testsuite time='soon'/>", "a <testsuite> time is not a number"),
        ("912 passed\n", "no pytest closing line"),
    ],
)
def test_a_timing_file_without_a_time_is_one_line(tmp_path: Path, text: str, what: str) -> None:
    path = tmp_path / "timing"
    path.write_text(text)
    with pytest.raises(InputError) as raised:
        goals.tests_seconds_from(path)
    assert raised.value.line().startswith(f"{path}: {what}")


CURRENT_TAIL = """\
310 passed, 0 failed, 0 error, 94 not applicable, 0 not run
schema: 1336 requests and 1336 responses validated, 0 invalid (/x/DUIS Schema V5.4.xsd)
CONFORMANT: all 310 applicable scenario(s) passed
"""
BASELINE_TAIL = """\
└────────┴──────────┘
222 passed, 0 failed, 0 error, 18 not applicable, 0 not run
schema: 914 requests and 914 responses validated, 0 invalid (/x/DUIS Schema V5.4.xsd)
"""


def test_a_runs_scenarios_and_requests_are_read_from_its_closing_lines() -> None:
    assert release.read_output(CURRENT_TAIL) == (404, 1336, "/x/DUIS Schema V5.4.xsd")
    assert release.read_output(BASELINE_TAIL) == (240, 914, "/x/DUIS Schema V5.4.xsd")
    with pytest.raises(release.BenchmarkError, match="2 documents of the run were invalid"):
        release.read_output(CURRENT_TAIL.replace("0 invalid", "2 invalid"))
    with pytest.raises(release.BenchmarkError, match="closing lines"):
        release.read_output("CONFORMANT\n")


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=REPO, timeout=300)


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--tests-seconds", "-5"], "all.py: error: the tests' wall time must be a positive number"),
        (["--tests-log", "/nonexistent/junit.xml"], "all.py: error: /nonexistent/junit.xml: cannot read"),
        (["--only", "everything"], "all.py: error: argument --only: invalid choice: 'everything'"),
    ],
)
def test_bad_usage_of_all_is_one_line_exit_2_and_nothing_run(args: list[str], line: str) -> None:
    done = _run(str(ALL), *args)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith(line)
    assert len(done.stderr.splitlines()) == 1


def test_an_unknown_baseline_is_one_line_and_leaves_no_worktree() -> None:
    done = _run(str(REPO / "benchmarks" / "release.py"), "--baseline", "no-such-release")
    assert done.returncode == 2
    assert done.stderr == "release.py: error: --baseline no-such-release: not a commit of this repository\n"


def _worktrees() -> str:
    return subprocess.run(["git", "worktree", "list"], capture_output=True, text=True, cwd=REPO).stdout


def test_release_runs_both_trees_side_by_side_and_removes_its_worktree(duis_schema: DuisSchema, tmp_path: Path) -> None:
    figures = tmp_path / "release.json"
    done = _run(str(REPO / "benchmarks" / "release.py"), "--baseline", "HEAD", "--rounds", "1", "--clause", "23",
                "--json", str(figures))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "s1sr-release-" not in _worktrees()
    assert "per request" in done.stdout
    found = json.loads(figures.read_text())
    assert found["baseline"]["label"] == "HEAD (baseline)"
    assert found["current"]["scenarios"] == 14  # clause 23 on the two default DMCs
    assert len(found["baseline"]["walls_s"]) == 1


def test_all_quick_runs_benchmarks_and_ends_with_the_goals_table(
    duis_schema: DuisSchema, rtds_files: list[Path]
) -> None:
    done = _run(str(ALL), "--quick", "--only", "throughput", "--only", "signing", "--tests-seconds", "70")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "== benchmarks/throughput.py --seconds 0.2" in out and "== benchmarks/signing.py" in out
    table = out[out.index("Issue 10's goals (QUICK run") :].splitlines()
    assert len(table) == 4 + len(goals.GOALS)
    assert table[-1].startswith("load average at the end: ")
    rows = {line.split("  ")[0]: line for line in table[3:-1]}
    assert len(rows) == len(goals.GOALS)
    assert "not measured" in rows["gate: index.html size"]
    assert " requests/s " in rows["S1SP round trip with User-side verify, one core"]
    assert "70.0 s" in rows["project's own tests (pytest, parallel)"]
