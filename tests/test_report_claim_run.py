"""``s1sr run --report-dir``: the folder is claimed before anything runs and replaced as one set after it."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.conftest import REPO, s1sr


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "s1sr", "run", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )  # fmt: skip


def _set_of(folder: Path) -> tuple[str, int]:
    """The run a report folder holds (its start stamp and scenario count); fails on a part or a mix."""
    assert sorted(p.name for p in folder.iterdir()) == ["cucumber.json", "index.html", "junit.xml", "results.json"]
    results = json.loads((folder / "results.json").read_text())
    started, count = results["started"], len(results["scenarios"])
    suite = ET.parse(folder / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("timestamp") == started and suite.get("tests") == str(count)
    elements = [e for f in json.loads((folder / "cucumber.json").read_text()) for e in f["elements"]]
    assert len(elements) == count
    assert f"{started} to " in (folder / "index.html").read_text()
    return started, count


def test_a_second_run_into_a_held_folder_is_refused_and_the_first_completes(tmp_path: Path) -> None:
    folder = tmp_path / "report"
    first = _start("--clause", "18.62", "--dmc", "secure-esme", "--adapter-option", "latency_s=0.2",
                   "--report-dir", str(folder))  # fmt: skip
    deadline = time.monotonic() + 30
    while not (tmp_path / ".report.s1sr-lock").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    second = s1sr("run", "--clause", "18.62", "--report-dir", str(folder))
    assert second.returncode == 2, second.stdout + second.stderr
    assert second.stderr.count("\n") == 1 and "Traceback" not in second.stderr
    assert f"another s1sr run (pid {first.pid})" in second.stderr
    assert "S1SR scenarios" not in second.stdout  # refused before anything ran
    first.communicate(timeout=120)
    assert first.returncode == 0
    assert _set_of(folder)[1] == 19
    assert not (tmp_path / ".report.s1sr-lock").exists()


def test_a_folder_that_cannot_be_written_is_refused_before_the_run(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    done = s1sr("run", "--clause", "18.62", "--report-dir", str(tmp_path / "a-file" / "report"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("s1sr: error: --report-dir ") and done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr and "passed" not in done.stdout


def test_twenty_sigterms_each_leave_one_complete_set_old_or_new(tmp_path: Path) -> None:
    folder = tmp_path / "report"
    previous = s1sr("run", "--clause", "18.62", "--dmc", "secure-esme", "--report-dir", str(folder))
    assert previous.returncode == 0, previous.stdout + previous.stderr
    old = _set_of(folder)
    assert old[1] == 19
    chance = random.Random(20261126)
    outcomes = []
    for _ in range(20):
        run = _start("--clause", "18.5", "--dmc", "secure-esme", "--report-dir", str(folder))
        time.sleep(chance.uniform(0.3, 2.5))
        run.send_signal(signal.SIGTERM)
        run.communicate(timeout=60)
        now = _set_of(folder)  # a part or a mix fails here
        assert now == old or now[1] == 20, now
        outcomes.append("new" if now != old else "old")
        old = now
    assert "new" in outcomes, outcomes  # the kills did not all land before the run began
