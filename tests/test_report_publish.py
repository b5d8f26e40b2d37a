"""Report folders: claimed before a run (writable, not held by another run), replaced as a whole set after it.

The kill tests publish in a child process and stop it at random moments: the folder must then hold one
complete set, every file from the same run, the previous one or a new one.
"""

from __future__ import annotations

import errno
import inspect
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from s1sr.catalogue import load_catalogue
from s1sr.errors import ConfigError
from s1sr.report import publish
from s1sr.report.publish import ReportNotWritten, claim_report_dir
from s1sr.report.results import RunRecord, ScenarioResult
from s1sr.report.writer import write_reports
from tests.conftest import REPO

SET_NAMES = ["cucumber.json", "index.html", "junit.xml", "results.json"]


def report_set(run_id: str, pad: int = 0) -> dict[str, bytes]:
    """Four report files that each carry ``run_id`` (and ``pad`` bytes, so that writing them takes time)."""
    filler = "x" * pad
    return {
        "index.html": f"<!doctype html><title>{run_id}</title><p id='started'>{run_id}</p><p>{filler}</p>".encode(),
        "junit.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><testsuites><testsuite name="{filler}" timestamp="{run_id}"/>'
            "</testsuites>"
        ).encode(),
        "cucumber.json": json.dumps([{"id": run_id, "description": filler}]).encode(),
        "results.json": json.dumps({"started": run_id, "pad": filler}).encode(),
    }


def run_ids(folder: Path) -> dict[str, str]:
    """The run each report file in ``folder`` comes from, read as a tool would read it."""
    page = (folder / "index.html").read_text()
    started = re.search(r"<p id='started'>([^<]*)</p>", page)
    suite = ET.parse(folder / "junit.xml").getroot().find("testsuite")
    assert started is not None and suite is not None
    return {
        "index.html": started[1],
        "junit.xml": suite.get("timestamp", ""),
        "cucumber.json": json.loads((folder / "cucumber.json").read_text())[0]["id"],
        "results.json": json.loads((folder / "results.json").read_text())["started"],
    }


def one_complete_set(folder: Path) -> str:
    """Assert ``folder`` holds exactly the four files, all from one run; that run's id."""
    assert sorted(os.listdir(folder)) == SET_NAMES
    ids = run_ids(folder)
    assert len(set(ids.values())) == 1, f"a mix of runs: {ids}"
    return ids["results.json"]


def beside(folder: Path) -> list[str]:
    """The names in the folder's parent."""
    return sorted(os.listdir(folder.parent))


def published(folder: Path, run_id: str, extra: dict[str, str] | None = None) -> Path:
    """A report folder holding one complete set (and ``extra`` files), as a finished run leaves it."""
    with claim_report_dir(folder) as claim:
        claim.publish(report_set(run_id))
    for name, text in (extra or {}).items():
        (folder / name).write_text(text)
    return folder


# --- the claim: before anything runs ----------------------------------------------------------


def test_a_claim_creates_the_folder_and_a_lock_beside_it_that_release_removes(tmp_path: Path) -> None:
    folder = tmp_path / "reports" / "run"
    claim = claim_report_dir(folder)
    assert claim.folder == folder and claim.held and claim.atomic
    assert os.listdir(folder) == []
    assert beside(folder) == [".run.s1sr-lock", "run"]
    assert (folder.parent / ".run.s1sr-lock").read_text() == f"{os.getpid()}\n"
    claim.release()
    claim.release()  # idempotent
    assert beside(folder) == ["run"] and not claim.held


def test_a_folder_under_a_file_is_refused_in_one_line_and_nothing_is_made(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(ConfigError) as caught:
        claim_report_dir(tmp_path / "file" / "sub")
    assert caught.value.line() == (
        f"--report-dir {tmp_path}/file/sub: cannot write here ({tmp_path}/file is a file, not a folder); "
        "choose a writable folder"
    )
    assert os.listdir(tmp_path) == ["file"]


def test_a_file_given_as_the_folder_is_refused(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text("{}")
    with pytest.raises(ConfigError) as caught:
        claim_report_dir(tmp_path / "results.json", option="--s1sr-results")
    assert caught.value.line() == f"--s1sr-results {tmp_path}/results.json: is a file, not a folder; choose a folder"


@pytest.mark.parametrize(
    ("call", "code", "reason"),
    [("write", errno.ENOSPC, "No space left on device"), ("fsync", errno.EIO, "Input/output error")],
    ids=["full-disk", "io-error"],
)
def test_a_folder_that_cannot_be_written_is_refused_and_nothing_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, call: str, code: int, reason: str
) -> None:
    def fail(*args: object) -> int:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, call, fail)
    with pytest.raises(ConfigError) as caught:
        claim_report_dir(tmp_path / "reports")
    monkeypatch.undo()
    assert (
        caught.value.line()
        == f"--report-dir {tmp_path}/reports: cannot write here ({reason}); choose a writable folder"
    )
    assert os.listdir(tmp_path) == []  # no folder, no lock, no probe
    claim_report_dir(tmp_path / "reports").release()  # and the lock was released


def test_a_folder_holding_files_that_are_not_reports_is_refused_and_left_untouched(tmp_path: Path) -> None:
    folder = tmp_path / "home"
    (folder / "src").mkdir(parents=True)
    for name in ("notes.txt", "results.json", "zeta.txt", "a.txt"):
        (folder / name).write_text(name)
    with pytest.raises(ConfigError) as caught:
        claim_report_dir(folder)
    assert caught.value.line() == (
        f"--report-dir {folder}: holds a.txt, notes.txt, src/ and 1 more, which are not s1sr reports; "
        "choose a new or empty folder for the reports, or move those out"
    )
    assert sorted(os.listdir(folder)) == ["a.txt", "notes.txt", "results.json", "src", "zeta.txt"]
    assert beside(folder) == ["home"]


def test_the_working_folder_and_the_root_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as caught:
        claim_report_dir(Path("."))
    assert caught.value.line() == (
        "--report-dir .: is the working folder (or holds it), and publishing the reports replaces the folder as "
        "a whole; choose a subfolder, such as ./report"
    )
    with pytest.raises(ConfigError) as caught:
        claim_report_dir(Path("/"))
    assert (
        caught.value.line()
        == "--report-dir /: is the root of the file system; choose a folder for the reports with --report-dir"
    )


# --- real file systems: read-only, full, a mount point (own mount namespace, nothing leaks) ----------


CLAIM_AND_SAY = """
import os, sys
from pathlib import Path
from s1sr.errors import ConfigError
from s1sr.report.publish import claim_report_dir
try:
    claim_report_dir(Path(sys.argv[1])).release()
    print("claimed")
except ConfigError as exc:
    print(exc.line())
print(sorted(os.listdir(sys.argv[2])))
"""


def in_mount_namespace(mount: Path, options: str, then: str, folder: Path) -> list[str]:
    """Mount a tmpfs at ``mount`` with ``options`` in a mount namespace of its own, run ``then``, claim ``folder``."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("unshare (util-linux) is not installed")
    mount.mkdir(exist_ok=True)
    own = [unshare, "--mount"] + ([] if os.geteuid() == 0 else ["--map-root-user"])
    script = f'mount -t tmpfs -o {options} s1sr-test "$1" || exit 97; {then} || exit 98; exec "$2" -c "$3" "$4" "$1"'
    done = subprocess.run(
        [*own, "sh", "-c", script, "sh", str(mount), sys.executable, CLAIM_AND_SAY, str(folder)],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )  # fmt: skip
    if done.returncode == 97 or "unshare failed" in done.stderr:
        pytest.skip(f"cannot mount a tmpfs in a mount namespace here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_a_read_only_file_system_is_refused_before_the_run(tmp_path: Path) -> None:
    mount = tmp_path / "ro"
    lines = in_mount_namespace(mount, "ro,size=64k", "true", mount / "reports")
    assert lines == [
        f"--report-dir {mount}/reports: cannot write here (Read-only file system); choose a writable folder",
        "[]",
    ]


def test_a_full_disk_is_refused_before_the_run(tmp_path: Path) -> None:
    mount = tmp_path / "full"
    fill = 'dd if=/dev/zero of="$1/fill" bs=4096 count=64 2>/dev/null; [ "$(stat -c %s "$1/fill")" -eq 16384 ]'
    lines = in_mount_namespace(mount, "size=16k", fill, mount / "reports")
    assert lines == [
        f"--report-dir {mount}/reports: cannot write here (No space left on device); choose a writable folder",
        "['fill']",
    ]


def test_a_mount_point_is_refused_with_a_folder_inside_it_as_the_fix(tmp_path: Path) -> None:
    mount = tmp_path / "volume"
    lines = in_mount_namespace(mount, "size=64k", "true", mount)
    assert lines == [
        f"--report-dir {mount}: is a mount point, and a report set is swapped in by renaming the folder; "
        f"choose a folder inside it, such as --report-dir {mount}/report",
        "[]",
    ]


# --- the lock --------------------------------------------------------------------------------


HOLD = """
import sys, time
from pathlib import Path
from s1sr.report.publish import claim_report_dir
claim = claim_report_dir(Path(sys.argv[1]))
print("held", flush=True)
time.sleep(60)
"""


def test_a_second_claim_is_refused_while_another_run_holds_the_folder_and_allowed_once_it_is_killed(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "reports"
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(ConfigError) as caught:
            claim_report_dir(folder)
        assert caught.value.line() == (
            f"--report-dir {folder}: another s1sr run (pid {holder.pid}) is writing reports here; "
            "wait for it or choose another --report-dir"
        )
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert holder.returncode == -signal.SIGKILL
    assert beside(folder) == [".reports.s1sr-lock", "reports"]  # the killed run's lock file is still there...
    with claim_report_dir(folder) as claim:  # ...but not its lock: the kernel dropped it with the process
        claim.publish(report_set("after-the-kill"))
    assert one_complete_set(folder) == "after-the-kill"
    assert beside(folder) == ["reports"]


def test_a_second_claim_in_the_same_process_is_refused(tmp_path: Path) -> None:
    with claim_report_dir(tmp_path / "reports"), pytest.raises(ConfigError) as caught:
        claim_report_dir(tmp_path / "reports")
    assert caught.value.line() == (
        f"--report-dir {tmp_path}/reports: this s1sr run (pid {os.getpid()}) has already claimed this folder; "
        "wait for it or choose another --report-dir"
    )


# --- publish: the set as a whole ------------------------------------------------------------


def test_publish_replaces_the_set_and_keeps_the_consultation_pack(tmp_path: Path) -> None:
    folder = published(tmp_path / "reports", "old", {"consultation.md": "the pack"})
    os.chmod(folder, 0o750)
    with claim_report_dir(folder) as claim:
        assert claim.publish(report_set("new")) == folder
        assert beside(folder) == [".reports.s1sr-lock", "reports"]  # no staging or old set left
    assert sorted(os.listdir(folder)) == ["consultation.md", *SET_NAMES]
    assert (folder / "consultation.md").read_text() == "the pack"
    (folder / "consultation.md").unlink()
    assert one_complete_set(folder) == "new"
    assert {oct(os.stat(folder / n).st_mode & 0o777) for n in SET_NAMES} == {"0o644"}
    assert oct(os.stat(folder).st_mode & 0o777) == "0o750"


def test_a_new_set_without_a_file_of_the_old_one_leaves_no_stale_file(tmp_path: Path) -> None:
    folder = published(tmp_path / "reports", "old")
    new = report_set("new")
    del new["junit.xml"], new["cucumber.json"]
    with claim_report_dir(folder) as claim:
        claim.publish(new)
    assert sorted(os.listdir(folder)) == ["index.html", "results.json"]


def test_files_and_folders_added_during_the_run_are_kept_and_the_next_run_is_told(tmp_path: Path) -> None:
    folder = published(tmp_path / "reports", "old")
    with claim_report_dir(folder) as claim:
        (folder / "notes.txt").write_text("mine")
        (folder / "screenshots").mkdir()
        (folder / "screenshots" / "a.png").write_bytes(b"png")
        claim.publish(report_set("new"))
    assert sorted(os.listdir(folder)) == ["cucumber.json", "index.html", "junit.xml", "notes.txt", "results.json",
                                          "screenshots"]  # fmt: skip
    assert (folder / "notes.txt").read_text() == "mine"
    assert (folder / "screenshots" / "a.png").read_bytes() == b"png"
    assert run_ids(folder)["results.json"] == "new"
    assert beside(folder) == ["reports"]
    with pytest.raises(ConfigError, match=r"holds notes.txt, screenshots/, which are not s1sr reports"):
        claim_report_dir(folder)


def test_a_failed_publish_leaves_the_previous_set_and_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = published(tmp_path / "reports", "old")
    with claim_report_dir(folder) as claim:
        written: list[int] = []

        def fill_up(handle: int, data: bytes) -> int:
            if written:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            written.append(len(data))
            return len(data)

        monkeypatch.setattr(os, "write", fill_up)
        with pytest.raises(ReportNotWritten) as caught:
            claim.publish(report_set("new"))
        monkeypatch.undo()
        assert caught.value.line() == (
            f"--report-dir {folder}: cannot write the reports (No space left on device); the previous reports are "
            "unchanged; free space or choose a writable folder, and run again"
        )
        assert beside(folder) == [".reports.s1sr-lock", "reports"]
    assert one_complete_set(folder) == "old"


def test_publish_after_release_is_a_programming_error(tmp_path: Path) -> None:
    claim = claim_report_dir(tmp_path / "reports")
    claim.release()
    with pytest.raises(RuntimeError, match="was released"):
        claim.publish(report_set("late"))
    with claim_report_dir(tmp_path / "reports") as again, pytest.raises(ValueError, match="plain, visible"):
        again.publish({"../escape.html": b""})


def test_a_folder_given_through_a_symbolic_link_is_replaced_where_it_is(tmp_path: Path) -> None:
    published(tmp_path / "real", "old")
    (tmp_path / "link").symlink_to("real")
    with claim_report_dir(tmp_path / "link") as claim:
        claim.publish(report_set("new"))
    assert (tmp_path / "link").is_symlink()
    assert one_complete_set(tmp_path / "real") == "new"


def test_without_an_atomic_exchange_two_renames_swap_the_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def unsupported(first: Path, second: Path) -> None:
        raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))

    monkeypatch.setattr(publish, "exchange_folders", unsupported)
    folder = published(tmp_path / "reports", "old", {"consultation.md": "the pack"})
    with claim_report_dir(folder) as claim:
        assert claim.atomic is False
        claim.publish(report_set("new"))
    assert (folder / "consultation.md").read_text() == "the pack"
    (folder / "consultation.md").unlink()
    assert one_complete_set(folder) == "new"
    assert beside(folder) == ["reports"]


def test_without_an_atomic_exchange_a_failed_second_rename_puts_the_previous_set_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unsupported(first: Path, second: Path) -> None:
        raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))

    real_rename = os.rename

    def second_rename_fails(source: str | Path, target: str | Path) -> None:
        if Path(source).name.startswith(".reports.s1sr-staging-"):
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        real_rename(source, target)

    monkeypatch.setattr(publish, "exchange_folders", unsupported)
    folder = published(tmp_path / "reports", "old")
    with claim_report_dir(folder) as claim:
        monkeypatch.setattr(os, "rename", second_rename_fails)
        with pytest.raises(ReportNotWritten, match=r"cannot write the reports \(Input/output error\)"):
            claim.publish(report_set("new"))
        monkeypatch.setattr(os, "rename", real_rename)
        assert one_complete_set(folder) == "old"
        assert beside(folder) == [".reports.s1sr-lock", "reports"]


# --- what killed runs leave ----------------------------------------------------------------


def test_the_next_claim_finishes_a_two_rename_swap_cut_between_its_renames(tmp_path: Path) -> None:
    folder = published(tmp_path / "reports", "new")
    folder.rename(tmp_path / ".reports.s1sr-staging-0123456789ab")
    published(tmp_path / "old", "old").rename(tmp_path / ".reports.s1sr-old-0123456789ab")
    assert beside(folder) == [".reports.s1sr-old-0123456789ab", ".reports.s1sr-staging-0123456789ab"]
    with claim_report_dir(folder):
        assert one_complete_set(folder) == "new"
    assert beside(folder) == ["reports"]


def test_the_next_claim_removes_leftovers_but_never_a_file_that_is_not_ours(tmp_path: Path) -> None:
    folder = published(tmp_path / "reports", "current", {"consultation.md": "the pack"})
    staging = tmp_path / ".reports.s1sr-staging-0123456789ab"  # a publish killed half way
    staging.mkdir()
    (staging / "index.html").write_text("half")
    os.link(folder / "consultation.md", staging / "consultation.md")
    old = tmp_path / ".reports.s1sr-old-ba9876543210"  # an old set a killed run did not remove, and a late file
    old.mkdir()
    for name, data in report_set("older").items():
        (old / name).write_bytes(data)
    (old / "late.txt").write_text("written during the swap")
    (tmp_path / ".reports.s1sr-probe-00000000000a").mkdir()
    (tmp_path / "reports.s1sr-staging-0123456789ab").mkdir()  # not ours: no leading dot
    with pytest.raises(ConfigError) as caught:
        claim_report_dir(folder)
    assert caught.value.line() == (
        f"--report-dir {folder}: holds late.txt, which is not an s1sr report; "
        "choose a new or empty folder for the reports, or move those out"
    )
    assert beside(folder) == ["reports", "reports.s1sr-staging-0123456789ab"]
    assert sorted(os.listdir(folder)) == ["consultation.md", *SET_NAMES[:3], "late.txt", "results.json"]
    assert (folder / "late.txt").read_text() == "written during the swap"
    assert run_ids(folder)["results.json"] == "current"


# --- kills at random moments during publish -------------------------------------------------


PUBLISH_FOREVER = """
import json, os, signal, sys
from pathlib import Path
from s1sr.report.publish import claim_report_dir

{report_set}

def stop(signum, frame):
    raise KeyboardInterrupt  # what s1sr run does on SIGTERM

if sys.argv[2] == "like-s1sr-run":
    signal.signal(signal.SIGTERM, stop)
if sys.argv[2] == "two-renames":  # as on a file system that cannot exchange two folders
    import s1sr.report.publish
    def unsupported(first, second):
        raise OSError(22, "Invalid argument")
    s1sr.report.publish.exchange_folders = unsupported
claim = claim_report_dir(Path(sys.argv[1]))
print("claimed", flush=True)
run = 0
while True:
    run += 1
    claim.publish(report_set(f"run-{{run}}", 200_000))
"""


@pytest.mark.parametrize(
    ("signum", "handling", "kills"),
    [
        (signal.SIGTERM, "like-s1sr-run", 20),
        (signal.SIGINT, "python-default", 5),
        (signal.SIGKILL, "python-default", 10),
        (signal.SIGKILL, "two-renames", 10),
    ],
    ids=["SIGTERM", "SIGINT", "SIGKILL", "SIGKILL-two-renames"],
)
def test_a_run_stopped_at_any_moment_of_publish_leaves_one_complete_set(
    tmp_path: Path, signum: int, handling: str, kills: int
) -> None:
    program = PUBLISH_FOREVER.format(report_set=inspect.getsource(report_set))
    chance = random.Random()
    outcomes: list[str] = []
    stopped_in_publish = 0
    kill = 0
    # At least `kills` kills, and more (up to a bound) until one has landed inside publish: where a random delay
    # lands depends on the machine's load, and a run of kills that all missed publish has not probed the swap.
    while kill < kills or (stopped_in_publish == 0 and kill < 60):
        kill += 1
        folder = published(tmp_path / f"reports-{kill}", "previous")
        child = subprocess.Popen(
            [sys.executable, "-c", program, str(folder), handling],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        )  # fmt: skip
        assert child.stdout is not None and child.stdout.readline() == "claimed\n"
        delay = chance.uniform(0.0, 0.12)
        time.sleep(delay)
        child.send_signal(signum)
        _, stderr = child.communicate(timeout=30)
        assert child.returncode != 0, stderr
        left = [p.name for p in tmp_path.iterdir() if re.search(r"\.s1sr-(staging|old)-", p.name)]
        stopped_in_publish += "in publish" in stderr or bool(left)
        if handling == "two-renames":  # a kill between the renames leaves the folder absent until the next claim
            with claim_report_dir(folder):
                run = one_complete_set(folder)
        else:
            run = one_complete_set(folder)
            with claim_report_dir(folder):  # the next run gets the folder: no stuck lock; leftovers removed
                assert one_complete_set(folder) == run
        assert run == "previous" or re.fullmatch(r"run-\d+", run), run
        outcomes.append(run)
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], f"kill {kill} after {delay:.3f}s"
    # Some kill did land inside publish (a traceback through it, or its staging folder left beside), so the
    # test did probe the swap. How many depends on the machine's load (half when idle, 0 of 5 seen once on a
    # loaded CI machine), hence the kills go on until one has: a timing figure is not what this test judges.
    assert stopped_in_publish >= 1, outcomes


# --- the writer renders a real run's set into a claimed folder -------------------------------


def test_write_reports_publishes_a_real_runs_four_files_from_one_run(tmp_path: Path) -> None:
    record = RunRecord(s1sr_version="4.3", dmc=["secure-esme"], started="2026-01-02T03:04:05+00:00")
    record.scenarios.append(
        ScenarioResult(
            name="a scenario", feature="18.3", feature_file="features/x.feature", clauses=["18.3"],
            srvs=["1.1.1"], dmc="secure-esme", outcome="passed",
        )
    )  # fmt: skip
    record.finished = "2026-01-02T03:04:06+00:00"
    paths = write_reports(record, load_catalogue("4.3"), tmp_path / "reports")
    assert [p.name for p in paths] == ["index.html", "junit.xml", "cucumber.json", "results.json"]
    folder = tmp_path / "reports"
    assert sorted(os.listdir(folder)) == SET_NAMES
    assert json.loads((folder / "results.json").read_text())["started"] == "2026-01-02T03:04:05+00:00"
    suite = ET.parse(folder / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("timestamp") == "2026-01-02T03:04:05+00:00"
    assert "2026-01-02T03:04:05+00:00" in (folder / "index.html").read_text()
    assert beside(folder) == ["reports"]
