"""The run's journal: one line per finished scenario, written as it goes; every report is rendered from journals."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from s1sr.report.journal import (
    MAGIC,
    JournalTarget,
    JournalWriter,
    RunIdentity,
    merge_journals,
    read_journal,
)
from tests.conftest import REPO, one_line_error, s1sr


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def small_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished run of clause 18.62 on the ESME into report/, its journal beside the folder."""
    folder = tmp_path_factory.mktemp("small-run")
    done = s1sr("run", "--dmc", "secure-esme", "--clause", "18.62", "--report-dir", str(folder / "report"))
    assert done.returncode == 0, done.stdout + done.stderr
    return folder


def test_a_run_journals_every_scenario_beside_its_report_folder(small_run: Path) -> None:
    journal = small_run / ".report.s1sr-journal.jsonl"
    lines = _lines(journal)
    assert journal.read_bytes().startswith(MAGIC)
    selected = len(lines[2]["scenarios"])
    assert selected >= 16  # 18.62 on one DMC (the features grow)
    kinds = ["header", "record", "selected"] + ["scenario"] * selected + ["end"]
    assert [line["kind"] for line in lines] == kinds
    assert lines[1]["waivers"] is None and len(lines[1]["signing"]["responses"]) == 1  # what the record carries
    header = lines[0]
    assert header["worker"] == "main" and header["format"] == 1 and header["s1sr_version"] == "4.3"
    assert header["dmc"] == ["secure-esme"] and header["shard"] is None
    assert len(header["catalogue_sha256"]) == 64 and len(header["features_sha256"]) == 64
    assert {line["run"] for line in lines} == {header["run"]}
    scenario = lines[3]
    for key in ("id", "name", "outcome", "steps", "evidence", "duration_s", "worker", "finished", "schema"):
        assert key in scenario, key
    assert scenario["outcome"] == "passed" and scenario["worker"] == "main"
    assert lines[-1]["interrupted"] is False and lines[-1]["exitstatus"] == 0
    # the report folder holds the four reports only: the journal is beside it
    assert sorted(p.name for p in (small_run / "report").iterdir()) == [
        "cucumber.json",
        "index.html",
        "junit.xml",
        "results.json",
    ]


def test_results_json_is_the_record_rebuilt_from_the_journal(small_run: Path, tmp_path: Path) -> None:
    done = s1sr("report", str(small_run / ".report.s1sr-journal.jsonl"), "--report-dir", str(tmp_path / "again"))
    assert done.returncode == 0, done.stdout + done.stderr
    first = json.loads((small_run / "report" / "results.json").read_text())
    assert f"CONFORMANT: all {len(first['scenarios'])} applicable scenario(s) passed" in done.stdout
    again = json.loads((tmp_path / "again" / "results.json").read_text())
    assert again == first
    lines = _lines(small_run / ".report.s1sr-journal.jsonl")
    summed = sum(line["schema"]["requests_validated"] for line in lines if line["kind"] == "scenario")
    assert first["schema"]["requests_validated"] == summed


def test_a_sigkilled_run_leaves_a_journal_that_renders_every_finished_scenario(tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    run = subprocess.Popen(
        [sys.executable, "-m", "s1sr", "run", "--dmc", "secure-esme", "--clause", "18.3",
         "--adapter-option", "latency_s=0.1", "--journal", str(journal)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if journal.exists() and journal.read_bytes().count(b'"kind":"scenario"') >= 3:
                break
            time.sleep(0.05)
        run.send_signal(signal.SIGKILL)
    finally:
        run.wait(timeout=60)
    assert run.returncode == -signal.SIGKILL
    finished, selected = {}, 0
    for raw in journal.read_bytes().splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue  # the line being written when the kill came
        if line["kind"] == "scenario":
            finished[line["id"]] = line["outcome"]
        selected += len(line.get("scenarios", []))
    assert 3 <= len(finished) < selected

    done = s1sr("report", str(journal), "--report-dir", str(tmp_path / "report"))
    assert done.returncode == 130, done.stdout + done.stderr  # the record says the run was interrupted
    results = json.loads((tmp_path / "report" / "results.json").read_text())
    assert results["interrupted"] is True and results["exit_code"] == 130
    assert len(results["scenarios"]) == selected  # the whole selection: finished, then not run
    outcomes = {s["id"]: s["outcome"] for s in results["scenarios"]}
    assert {i: o for i, o in outcomes.items() if i in finished} == finished
    unfinished = [s for s in results["scenarios"] if s["id"] not in finished]
    assert unfinished and all(s["outcome"] == "not run" for s in unfinished)
    assert all("the run stopped before this scenario finished" in s["reason"] for s in unfinished)
    assert results["verdict"] == "INCONCLUSIVE"


@pytest.mark.parametrize("workers", ["0", "2"])
def test_a_run_without_a_report_folder_leaves_no_journal_behind(tmp_path: Path, workers: str) -> None:
    args = ("run", "--dmc", "secure-esme", "--clause", "18.62", "--workers", workers)
    done = s1sr(*args, env={"TMPDIR": str(tmp_path)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "CONFORMANT: all " in done.stdout
    assert "journal:" not in done.stdout
    assert not list(tmp_path.glob("s1sr-journal-*"))


def test_a_journal_path_holding_something_else_is_refused_and_left_alone(tmp_path: Path) -> None:
    precious = tmp_path / "notes.txt"
    precious.write_text("not a journal\n")
    line = one_line_error(s1sr("run", "--clause", "18.62", "--journal", str(precious)))
    assert "holds something that is not an s1sr journal" in line and str(precious) in line
    assert precious.read_text() == "not a journal\n"


# --- the file, line by line -------------------------------------------------------------------------------


def _identity(**changes: Any) -> RunIdentity:
    fields: dict[str, Any] = {
        "s1sr_version": "4.3",
        "catalogue_sha256": "c" * 64,
        "features_sha256": "f" * 64,
        "dmc": ("secure-esme",),
        "adapter": "simulated",
        "s1sp": "reference",
        "xsd": None,
    }
    return RunIdentity(**(fields | changes))


def _scenario(scenario_id: str, outcome: str = "passed", position: int = 0) -> dict[str, Any]:
    return {
        "id": scenario_id,
        "name": f"scenario {scenario_id}",
        "feature": "F",
        "feature_file": "features/f.feature",
        "clauses": ["18.62"],
        "srvs": [],
        "dmc": "secure-esme",
        "outcome": outcome,
        "position": position,
        "schema": {"requests_validated": 2, "responses_validated": 2, "invalid": 0},
    }


def _write_run(
    path: Path,
    run: str,
    ids: list[str],
    identity: RunIdentity | None = None,
    end: bool = True,
    positions: list[int] | None = None,
) -> None:
    writer = JournalWriter(JournalTarget(path, run), "main")
    writer.header(identity or _identity(), "2026-01-02T03:04:05+00:00")
    places = positions or list(range(len(ids)))
    selected = [_scenario(i, position=n) for i, n in zip(ids, places, strict=True)]
    writer.append("selected", {"scenarios": selected})
    for entry in selected:
        writer.append("scenario", entry | {"finished": "2026-01-02T03:04:06.5+00:00"})
    if end:
        writer.append("end", {"finished": "2026-01-02T03:04:07.25+00:00", "interrupted": False, "exitstatus": 0})
    writer.close()


def test_a_torn_line_is_skipped_and_the_next_line_stands_alone(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    _write_run(path, "r1", ["a", "b"], end=False)
    with path.open("ab") as handle:
        handle.write(b'{"kind":"scenario","run":"r1","worker":"main","id":"c","na')  # killed mid-write
    writer = JournalWriter(JournalTarget(path, "r1"), "gw1")
    writer.append("end", {"finished": "2026-01-02T03:04:08+00:00", "interrupted": False, "exitstatus": 0})
    writer.close()
    journal = read_journal(path)
    assert journal.skipped == 1
    assert [line["kind"] for _, line in journal.lines][-1] == "end"
    merged = merge_journals([journal])
    assert [s.id for s in merged.record.scenarios] == ["a", "b"]
    assert merged.record.requests_validated == 4
    assert merged.record.interrupted is True  # the main process wrote no end line: it was killed
    assert merged.warnings == [f"{path}: 1 incomplete line(s) skipped (a process was killed while writing)"]


def test_shards_merge_in_the_order_of_the_unsharded_run_with_times_to_the_second(tmp_path: Path) -> None:
    _write_run(tmp_path / "a.jsonl", "r1", ["x1", "x3"], positions=[0, 2])
    _write_run(tmp_path / "b.jsonl", "r2", ["x2"], positions=[1])
    merged = merge_journals([read_journal(tmp_path / "b.jsonl"), read_journal(tmp_path / "a.jsonl")])
    record = merged.record
    assert [s.id for s in record.scenarios] == ["x1", "x2", "x3"]
    assert record.started == "2026-01-02T03:04:05+00:00"
    assert record.finished == "2026-01-02T03:04:07+00:00"
    assert record.interrupted is False
    assert record.requests_validated == 6 and record.responses_validated == 6 and record.invalid == 0
    assert merged.warnings == []


def test_journals_that_are_not_one_run_are_refused_unless_allowed(tmp_path: Path) -> None:
    _write_run(tmp_path / "a.jsonl", "r1", ["a"])
    _write_run(tmp_path / "b.jsonl", "r2", ["b"], _identity(features_sha256="e" * 64))
    _write_run(tmp_path / "c.jsonl", "r3", ["a"])
    _write_run(tmp_path / "d.jsonl", "r4", ["d"], _identity(s1sr="0.0.9"))
    for other, what in (("b", "its features (eeeeeeeeeeee...)"), ("d", "its s1sr (0.0.9)")):
        line = one_line_error(s1sr("report", str(tmp_path / "a.jsonl"), str(tmp_path / f"{other}.jsonl")))
        assert line.startswith(f"s1sr: error: {tmp_path / other}.jsonl:1: {what} is not the one of ")
        assert line.endswith("or pass --allow-mixed")
    mixed = s1sr("report", "--allow-mixed", str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl"))
    assert mixed.returncode == 0, mixed.stdout + mixed.stderr
    assert "all 2 applicable scenario(s) passed" in mixed.stdout
    # the same scenario from two runs is refused, mixed or not
    for args in (["a", "c"], ["a", "a"]):
        line = one_line_error(s1sr("report", "--allow-mixed", *(str(tmp_path / f"{n}.jsonl") for n in args)))
        assert "scenario a is in two runs" in line or "scenario a finished twice" in line


def test_files_that_are_not_journals_are_one_line_and_nothing_is_written(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text('{"scenarios": []}\n')
    (tmp_path / "bad-type.jsonl").write_text(
        '{"journal":"s1sr-journal","format":1,"kind":"header","run":"r","worker":"main","started":5}\n'
    )
    _write_run(tmp_path / "newer.jsonl", "r1", ["a"])
    text = (tmp_path / "newer.jsonl").read_text().replace('"format":1', '"format":2', 1)
    (tmp_path / "newer.jsonl").write_text(text)
    writer = JournalWriter(JournalTarget(tmp_path / "header-only.jsonl", "r2"), "main")
    writer.header(_identity(), "2026-01-02T03:04:05+00:00")  # killed before it collected
    writer.close()
    expected = {
        "header-only.jsonl": "holds no scenario: the run ended before it had collected any; run the suite again",
        "results.json": "is not an s1sr journal (it does not begin with a journal header)",
        "missing.jsonl": "cannot read the journal (No such file or directory)",
        "bad-type.jsonl:1": "is not a journal line ('started' is missing or not str)",
        "newer.jsonl:1": "is journal format 2, newer than this s1sr reads; upgrade s1sr",
    }
    for where, what in expected.items():
        name = where.partition(":")[0]
        line = one_line_error(s1sr("report", str(tmp_path / name), "--report-dir", str(tmp_path / "out")))
        assert line == f"s1sr: error: {tmp_path / where}: {what}", line
    assert not (tmp_path / "out").exists()


def test_a_writer_on_a_full_disk_keeps_one_line_and_goes_on() -> None:
    writer = JournalWriter(JournalTarget(Path("/dev/full"), "r1"), "main")
    writer.header(_identity(), "2026-01-02T03:04:05+00:00")
    assert writer.error == "cannot write the journal /dev/full (No space left on device)"
    writer.append("scenario", _scenario("a"))  # dropped, never raised: the scenario is then not run
    writer.close()


def test_a_missing_shard_is_named(tmp_path: Path) -> None:
    _write_run(tmp_path / "a.jsonl", "r1", ["a"], _identity(shard="1/3"))
    _write_run(tmp_path / "c.jsonl", "r3", ["c"], _identity(shard="3/3"))
    merged = merge_journals([read_journal(tmp_path / "a.jsonl"), read_journal(tmp_path / "c.jsonl")])
    assert merged.warnings == [
        "the journals hold part(s) 1, 3 of 3 of a sharded run: the scenarios of part(s) 2/3 are not in the record"
    ]
    _write_run(tmp_path / "b.jsonl", "r2", ["b"], _identity(shard="2/3"))
    files = [read_journal(tmp_path / f"{name}.jsonl") for name in "abc"]
    assert merge_journals(files).warnings == []
