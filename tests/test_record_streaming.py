"""A record whose evidence stays in its journal: read one scenario at a time, as each report is written.

A 40-DMC gate's evidence is about 130 MB; these tests hold the record to reading it from the journal on
demand (never kept), and the reports to writing a scenario at a time, with the same bytes as before.
"""

from __future__ import annotations

import errno
import io
import json
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import pytest

from s1sr.catalogue import load_catalogue
from s1sr.errors import InputError, S1srError
from s1sr.report.cucumber import cucumber_json
from s1sr.report.evidence import JournaledEvidence
from s1sr.report.files import Content, write_new_files
from s1sr.report.journal import JournalTarget, JournalWriter, RunIdentity, merge_journals, read_journal
from s1sr.report.publish import claim_report_dir
from s1sr.report.results import RunRecord
from s1sr.report.writer import report_contents

IDENTITY = RunIdentity("4.3", "c" * 64, "f" * 64, ("secure-esme",), "simulated", "reference", None)
STAMP = "2026-01-02T03:04:06.5+00:00"


def _exchange(n: int, size: int = 40) -> dict[str, Any]:
    return {
        "srv": "2.2",
        "request_xml": f"<Request n='{n}'>{'é' * size}</Request>",
        "response_xml": f"<Response n='{n}'>\u00a3{n}</Response>",
        "device_commands": [
            {
                "name": "AdjustBalance",
                "device_id": "00-DB-12-34-56-78-90-A0",
                "fields": {"pence": n, "nested": [1, {"a": None}]},
                "defaults": {},
                "sources": {"pence": "the request"},
                "reply": {"accepted": True, "values": {"balance_pence": n}, "reason": ""},
            }
        ],
        "refused": "",
        "request_schema": "valid",
        "response_schema": "valid",
        "signature": "ECDSA P-256/SHA-256 signature verifies",
        "correlation": "matches the request",
        "success": True,
        "outcomes": [],
        "duration_s": 0.003,
        "sent_at": "2026-11-26T22:08:35.943+00:00",
    }


def _scenario(n: int, evidence: list[dict[str, Any]], outcome: str = "passed") -> dict[str, Any]:
    return {
        "id": f"features/f.feature:{n}[secure-esme]",
        "name": f"scenario {n} « quoted »",
        "feature": "F",
        "feature_file": f"features/f{n % 2}.feature",
        "clauses": ["18.3"],
        "srvs": ["2.2"],
        "dmc": "secure-esme",
        "outcome": outcome,
        "position": n,
        "steps": [{"keyword": "Then", "text": f"step {n}", "line": n, "status": "passed"}],
        "evidence": evidence,
        "schema": {"requests_validated": 1, "responses_validated": 1, "invalid": 0},
    }


def _journal(path: Path, scenarios: list[dict[str, Any]], run: str = "r1") -> Path:
    writer = JournalWriter(JournalTarget(path, run), "main")
    writer.header(IDENTITY, "2026-01-02T03:04:05+00:00")
    writer.append("selected", {"scenarios": [{k: v for k, v in s.items() if k != "evidence"} for s in scenarios]})
    for entry in scenarios:
        writer.append("scenario", entry | {"finished": STAMP})
    writer.append("end", {"finished": "2026-01-02T03:04:07+00:00", "interrupted": False, "exitstatus": 0})
    writer.close()
    return path


def test_a_record_rebuilt_from_a_journal_reads_each_scenarios_evidence_from_the_file(tmp_path: Path) -> None:
    path = _journal(tmp_path / "j.jsonl", [_scenario(1, [_exchange(1), _exchange(2)]), _scenario(2, [])])
    record = merge_journals([read_journal(path)]).record
    first, second = record.scenarios
    assert isinstance(first.evidence, JournaledEvidence)
    assert len(first.evidence) == 2 and len(second.evidence) == 0 and not second.evidence
    assert first.evidence == [_exchange(1), _exchange(2)]
    assert first.evidence[1]["response_xml"] == "<Response n='2'>£2</Response>"
    assert [e["srv"] for e in first.evidence] == ["2.2", "2.2"]
    assert list(first.evidence) is not list(first.evidence)  # read afresh each time, never kept


def test_the_evidence_outlives_a_temporary_journal_removed_after_it_was_read(tmp_path: Path) -> None:
    path = _journal(tmp_path / "j.jsonl", [_scenario(7, [_exchange(7)])])
    record = merge_journals([read_journal(path)]).record
    path.unlink()
    assert record.scenarios[0].evidence == [_exchange(7)]


def test_a_journal_rewritten_since_it_was_read_is_one_line_never_another_scenarios_evidence(tmp_path: Path) -> None:
    path = _journal(tmp_path / "j.jsonl", [_scenario(1, [_exchange(1)]), _scenario(2, [_exchange(2)])])
    record = merge_journals([read_journal(path)]).record
    with path.open("r+b") as handle:  # a new run into the same journal: same place, other lines
        handle.truncate(0)
    _journal(path, [_scenario(2, [_exchange(99)]), _scenario(1, [_exchange(98)])], run="r2")
    with pytest.raises(InputError) as raised:
        list(record.scenarios[0].evidence)
    assert raised.value.line() == (
        f"{path}: changed since it was read: the evidence of scenario features/f.feature:1[secure-esme] is no "
        "longer where it was; render the reports from a journal no run is writing"
    )


def test_a_scenario_journaled_in_the_run_keeps_where_its_evidence_is_not_the_evidence(tmp_path: Path) -> None:
    writer = JournalWriter(JournalTarget(tmp_path / "j.jsonl", "r1"), "gw0")
    writer.header(IDENTITY, "2026-01-02T03:04:05+00:00")
    with (tmp_path / "j.jsonl").open("ab") as handle:
        handle.write(b'{"kind":"scenario","run":"r1","wor')  # another process killed mid-line: ours starts after
    entry = _scenario(3, [_exchange(3), _exchange(4)])
    where = writer.append("scenario", entry)
    assert where is not None
    offset, length = where
    raw = (tmp_path / "j.jsonl").read_bytes()
    assert raw[offset - 1 : offset] == b"\n" and raw[offset + length - 1 :] == b"\n"
    assert json.loads(raw[offset : offset + length])["id"] == entry["id"]
    evidence = writer.evidence(where, entry["id"], 2)
    writer.close()
    assert evidence == [_exchange(3), _exchange(4)]


def _record_of(tmp_path: Path, count: int, size: int) -> RunRecord:
    scenarios = [_scenario(n, [_exchange(n, size)], "failed" if n == 0 else "passed") for n in range(count)]
    return merge_journals([read_journal(_journal(tmp_path / "big.jsonl", scenarios))]).record


def test_results_json_written_a_scenario_at_a_time_is_the_json_of_the_record(tmp_path: Path) -> None:
    record = _record_of(tmp_path, 5, 10)
    out = io.BytesIO()
    record.write_json(out)
    document = json.loads(out.getvalue())
    assert document == json.loads(json.dumps(record.as_dict()))
    text = out.getvalue().decode("utf-8")
    assert text.startswith('{\n  "s1sr_version": "4.3",\n  "dmc": [\n    "secure-esme"\n  ],\n')
    assert text.endswith("\n}\n")
    assert (
        (  # fields indented by two, each exchange on one line
            '\n      "reason": "",\n      "evidence": [\n        {"srv": "2.2", "request_xml": "<Request n=\'1\'>'
            + "\\u00e9" * 10
            + '</Request>", "response_xml": "<Response n=\'1\'>\\u00a31</Response>", "device_commands": [{"name": '
            '"AdjustBalance", "device_id": "00-DB-12-34-56-78-90-A0", "fields": {"pence": 1, "nested": [1, {"a": '
            'null}]}, "defaults": {}, "sources": {"pence": "the request"}, "reply": {"accepted": true, "values": '
            '{"balance_pence": 1}, "reason": ""}}], "refused": "", "request_schema": "valid", '
            '"response_schema": "valid", "signature": "ECDSA P-256/SHA-256 signature verifies", "correlation": '
            '"matches the request", "success": true, "outcomes": [], "duration_s": 0.003, "sent_at": '
            '"2026-11-26T22:08:35.943+00:00"}\n      ],\n      "steps": [\n'
            '        {\n          "keyword": "Then",\n'
        )
        in text
    )
    assert [s["evidence"][0]["request_xml"] for s in document["scenarios"]][:2] == [
        "<Request n='0'>éééééééééé</Request>",
        "<Request n='1'>éééééééééé</Request>",
    ]
    assert document["summary"]["failed"] == 1 and document["summary"]["passed"] == 4
    empty = io.BytesIO()
    RunRecord("4.3", ["secure-esme"]).write_json(empty)
    assert json.loads(empty.getvalue())["scenarios"] == []
    assert empty.getvalue().endswith(b'"scenarios": []\n}\n')


def test_cucumber_json_written_a_feature_at_a_time_is_one_feature_per_file(tmp_path: Path) -> None:
    record = _record_of(tmp_path, 5, 10)
    features = json.loads(cucumber_json(record))
    assert [f["uri"] for f in features] == ["features/f0.feature", "features/f1.feature"]
    assert [len(f["elements"]) for f in features] == [3, 2]
    assert features[1]["elements"][0]["name"] == "scenario 1 « quoted » [secure-esme]"
    assert cucumber_json(RunRecord("4.3", ["secure-esme"])) == b"[]"


def test_publishing_a_record_never_holds_its_evidence_all_at_once(tmp_path: Path) -> None:
    """60 scenarios of 200,000 characters of evidence each (24 MB as UTF-8): the reports are written with a
    few scenarios' worth of memory, not the whole (the bound is 6 MB, a quarter of the evidence)."""
    record = _record_of(tmp_path, 60, 100_000)
    contents = report_contents(record, load_catalogue("4.3"))
    folder = tmp_path / "out"
    folder.mkdir()
    tracemalloc.start()
    try:
        for name, write in contents.items():
            if name == "index.html":
                continue  # the page packs bodies with its own bounds (tests/test_report_packing.py)
            with (folder / name).open("wb") as out:
                write(out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert os.path.getsize(folder / "results.json") > 24_000_000
    assert peak < 6_000_000, f"peak {peak:,} bytes while writing the reports"


def _pid_writer(tag: bytes) -> Callable[[BinaryIO], None]:
    def write(out: BinaryIO) -> None:
        out.write(tag + b" " + str(os.getpid()).encode())

    return write


def test_reports_written_in_parallel_are_written_by_processes_of_their_own(tmp_path: Path) -> None:
    files: dict[str, Content] = {"a": _pid_writer(b"A"), "b": _pid_writer(b"B"), "c": b"bytes", "d": _pid_writer(b"D")}
    write_new_files(tmp_path, files, parallel=2)
    assert (tmp_path / "c").read_bytes() == b"bytes"
    tags = {name: (tmp_path / name).read_bytes().split() for name in ("a", "b", "d")}
    assert [tags[n][0] for n in ("a", "b", "d")] == [b"A", b"B", b"D"]
    pids = {int(tags[n][1]) for n in tags}
    assert len(pids) == 3 and os.getpid() not in pids  # one forked process per file
    write_new_files(tmp_path / "serial", {}, parallel=1)  # nothing to write: nothing made
    assert not (tmp_path / "serial").exists()


def _failing(out: BinaryIO) -> None:
    out.write(b"half")
    raise InputError("changed since it was read", "run.jsonl", "render the reports again")


def test_a_report_that_fails_in_its_process_is_the_same_one_line_in_the_run(tmp_path: Path) -> None:
    with pytest.raises(S1srError) as raised:
        write_new_files(tmp_path, {"ok": _pid_writer(b"A"), "bad": _failing}, parallel=2)
    assert raised.value.line() == "run.jsonl: changed since it was read; render the reports again"

    def full_disk(out: BinaryIO) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    (tmp_path / "x").mkdir()
    with pytest.raises(OSError) as disk:
        write_new_files(tmp_path / "x", {"one": _pid_writer(b"A"), "two": full_disk}, parallel=2)
    assert (disk.value.errno, disk.value.strerror) == (errno.ENOSPC, "No space left on device")


def test_publishing_in_parallel_gives_the_reports_of_publishing_one_at_a_time(tmp_path: Path) -> None:
    record = _record_of(tmp_path, 12, 50)
    catalogue = load_catalogue("4.3")
    with claim_report_dir(tmp_path / "one") as claim:
        claim.publish(report_contents(record, catalogue))
    with claim_report_dir(tmp_path / "two") as claim:
        claim.publish(report_contents(record, catalogue), parallel=4)
    for name in ("index.html", "junit.xml", "cucumber.json", "results.json"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
    with claim_report_dir(tmp_path / "two") as claim, pytest.raises(S1srError):
        claim.publish({"index.html": _failing, "results.json": b"{}"}, parallel=2)
    assert (tmp_path / "two" / "results.json").read_bytes() == (tmp_path / "one" / "results.json").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".two")) == []  # nothing left beside


def test_writing_in_parallel_reaps_its_own_processes_and_no_other(tmp_path: Path) -> None:
    """A run's controller has other children (pytest-xdist workers): their exit status stays theirs."""
    other = subprocess.Popen([sys.executable, "-c", "raise SystemExit(7)"])
    time.sleep(0.5)  # ended, waiting to be reaped
    write_new_files(tmp_path, {"a": _pid_writer(b"A"), "b": _pid_writer(b"B")}, parallel=2)
    assert other.wait(timeout=10) == 7
    assert (tmp_path / "a").read_bytes().startswith(b"A ") and (tmp_path / "b").read_bytes().startswith(b"B ")
