"""`s1sr diff` shows on stderr which of its four runs is going, its scenario count, and each run's verdict;
stdout keeps the JSON alone."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from s1sr import diff as diff_module
from s1sr.cli.reports import DiffProgressView
from s1sr.diff import JournalFollower, RunProgress
from tests.conftest import one_line_error, s1sr


def line(kind: str, **fields: object) -> bytes:
    return json.dumps({"kind": kind, "run": "r1", "worker": "main", **fields}).encode() + b"\n"


def scenario(outcome: str) -> bytes:
    return line("scenario", id="f.feature:3[secure-esme]", outcome=outcome, evidence=[{"request": "x" * 2000}])


def test_the_follower_counts_what_the_journal_says_as_it_grows(tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    run = RunProgress(2, 4, "4.3", "4.2")
    follower = JournalFollower(journal, run)
    assert follower.poll() is False  # not created yet
    journal.write_bytes(b'{"journal":"s1sr-journal","format":1,"kind":"header","run":"r1","worker":"main"}\n')
    assert (follower.poll(), run.selected) == (False, None)  # a header says nothing of progress
    whole = scenario("failed")
    with journal.open("ab") as handle:
        handle.write(line("selected", scenarios=[{"id": "a"}, {"id": "b"}, {"id": "c"}]))
        handle.write(scenario("passed") + whole[:100])  # the second scenario's line is half written
    assert follower.poll() is True
    assert (run.selected, run.finished, run.outcomes) == (3, 1, {"passed": 1})
    with journal.open("ab") as handle:
        handle.write(whole[100:] + b'{"kind":"scenario","outcome":"pass\n')  # the rest; then a torn line
    assert follower.poll() is True
    assert (run.finished, run.outcomes, run.tally()) == (2, {"passed": 1, "failed": 1}, "1 failed")
    with journal.open("ab") as handle:
        handle.write(line("crashed", nodeid="n", reason="worker gw0 crashed") + line("end", finished="t"))
    assert follower.poll() is True
    assert (run.finished, run.outcomes, run.tally()) == (3, {"passed": 1, "failed": 1, "error": 1}, "1 failed, 1 error")
    assert follower.poll() is False  # nothing new


def test_the_follower_skips_a_line_longer_than_a_journal_holds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diff_module, "MAX_LINE_BYTES", 1000)
    monkeypatch.setattr(diff_module, "READ_CHUNK", 700)
    journal = tmp_path / "run.jsonl"
    run = RunProgress(1, 4, "4.2", "4.2")
    follower = JournalFollower(journal, run)
    journal.write_bytes(scenario("failed") + line("scenario", outcome="passed"))  # the first is over 2,000 bytes
    while follower.poll():
        pass
    for _ in range(5):  # read to the end, 700 bytes a look, holding no more than 1,000 of the long line
        follower.poll()
        assert len(follower._partial) <= 1000
    assert (run.finished, run.outcomes) == (1, {"passed": 1})


def finished(run: RunProgress, verdict: str, summary: dict[str, int], seconds: float) -> RunProgress:
    run.verdict, run.summary, run.seconds = verdict, summary, seconds
    return run


def test_on_a_log_each_run_is_a_line_when_its_scenarios_are_known_and_one_at_its_end() -> None:
    log = io.StringIO()
    view = DiffProgressView(Console(file=log, force_terminal=False, width=200), every_s=0.0)
    run = RunProgress(3, 4, "4.3", "4.2")
    view.run_started(run)
    view.run_advanced(run)  # nothing selected yet: nothing to say
    run.selected = 202
    view.run_advanced(run)
    run.finished, run.outcomes = 40, {"passed": 38, "failed": 2}
    view.run_advanced(run)
    view.run_finished(finished(run, "NOT CONFORMANT", {"passed": 156, "failed": 6, "not applicable": 40}, 5.46))
    assert log.getvalue().splitlines() == [
        "run 3 of 4: S1SR 4.3 scenarios on the 4.2 S1SP: 202 scenarios selected",
        "run 3 of 4: S1SR 4.3 scenarios on the 4.2 S1SP: 40 of 202 finished (2 failed)",
        "run 3 of 4: S1SR 4.3 scenarios on the 4.2 S1SP: NOT CONFORMANT in 5.5 s (156 passed, 6 failed, "
        "40 not applicable)",
    ]


def test_on_a_log_a_run_in_progress_is_told_at_most_every_so_many_seconds() -> None:
    log = io.StringIO()
    view = DiffProgressView(Console(file=log, force_terminal=False, width=200), every_s=3600.0)
    run = RunProgress(1, 4, "4.2", "4.2", selected=10)
    view.run_started(run)
    for done in range(1, 11):
        run.finished = done
        view.run_advanced(run)
    assert log.getvalue().splitlines() == ["run 1 of 4: S1SR 4.2 scenarios on the 4.2 S1SP: 10 scenarios selected"]


def test_on_a_terminal_the_bar_goes_and_the_verdict_stays() -> None:
    screen = io.StringIO()
    view = DiffProgressView(Console(file=screen, force_terminal=True, width=120, color_system=None))
    run = RunProgress(1, 4, "4.2", "4.2", selected=2)
    view.run_started(run)
    run.finished, run.outcomes = 1, {"failed": 1}
    view.run_advanced(run)
    view.run_finished(finished(run, "NOT CONFORMANT", {"passed": 1, "failed": 1, "error": 0}, 0.04))
    view.close()  # as the command does when the diff ends: a second stop is harmless
    text = screen.getvalue()
    assert "run 1 of 4: S1SR 4.2 scenarios on the 4.2 S1SP: NOT CONFORMANT in 0.0 s (1 passed, 1 failed)\n" in text


def test_diff_json_keeps_stdout_to_the_json_and_tells_each_run_on_stderr(tmp_path: Path) -> None:
    done = s1sr("diff", "4.2", "4.3", "--dmc", "secure-esme", "--json", "--report-dir", str(tmp_path / "diff"))
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)  # stdout is the JSON and nothing else
    told = [re.sub(r" in \d+\.\d s ", " in T s ", x) for x in done.stderr.splitlines()]
    # a run longer than the log interval (10 s) adds "k of n finished" lines between
    told = [x for x in told if not re.fullmatch(r".*: \d+ of \d+ finished( \(.*\))?", x)]
    labels = [
        ("4.2-scenarios-4.2-s1sp", "run 1 of 4: S1SR 4.2 scenarios on the 4.2 S1SP", "CONFORMANT"),
        ("4.3-scenarios-4.3-s1sp", "run 2 of 4: S1SR 4.3 scenarios on the 4.3 S1SP", "CONFORMANT"),
        ("4.3-scenarios-4.2-s1sp", "run 3 of 4: S1SR 4.3 scenarios on the 4.2 S1SP", "NOT CONFORMANT"),
        ("4.2-scenarios-4.3-s1sp", "run 4 of 4: S1SR 4.2 scenarios on the 4.3 S1SP", "NOT CONFORMANT"),
    ]
    expected = []
    for name, label, verdict in labels:
        summary = result["runs"][name]  # the run's own record, read back from its results.json
        counts = ", ".join(f"{n} {outcome}" for outcome, n in summary.items() if n)
        expected += [f"{label}: {sum(summary.values())} scenarios selected", f"{label}: {verdict} in T s ({counts})"]
    assert told == expected
    assert result["runs"]["4.3-scenarios-4.2-s1sp"]["failed"] > 0  # the verdicts above are the runs', not made up


def test_a_run_of_the_diff_that_fails_is_one_line(tmp_path: Path) -> None:
    error = one_line_error(s1sr("diff", "4.2", "4.3", "--dmc", "secure-esme", "--xsd", str(tmp_path / "none.xsd")))
    assert error.startswith(
        "s1sr: error: diff: the run of S1SR 4.2 scenarios with the 4.2 S1SP failed: s1sr: error: "
    ), error
    assert str(tmp_path / "none.xsd") in error
