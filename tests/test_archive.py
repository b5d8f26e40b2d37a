"""The archive of runs: every run kept with its manifest; runs listed; one zip an auditor keeps, and its check."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from s1sr.archive import export as export_module
from s1sr.archive.export import verify_export
from s1sr.archive.store import find_run
from s1sr.duis.signing import self_signed
from s1sr.errors import InputError, S1srError
from tests.conftest import REPO, one_line_error, s1sr

FAILING_S1SP = "tests.s1sp_variants:LabelsEveryFieldAnnexC"
RUN_FILES = ["cucumber.json", "index.html", "journal.jsonl", "junit.xml", "manifest.json", "results.json"]
#: The four scenarios of clause 23 that LabelsEveryFieldAnnexC fails (its false "Annex C" labels).
FAILED_IDS = [
    "features/23-annex-c-defaults.feature:11[secure-esme]",
    "features/23-annex-c-defaults.feature:18[secure-esme]",
    "features/23-annex-c-defaults.feature:24[secure-esme]",
    "features/23-annex-c-defaults.feature:30[secure-esme]",
]


def run_in(archive: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``s1sr ARGS`` with the archive in ``archive`` (the working folder beside it)."""
    # pytest-xdist workers carry COLUMNS=80: a table as wide as a log file's, so a row stays on one line
    return s1sr(*args, cwd=cwd or archive.parent, env={"S1SR_ARCHIVE_DIR": str(archive), "COLUMNS": "200"})


def archived(done: subprocess.CompletedProcess[str]) -> Path:
    """The run's folder, as the run's last line names it."""
    last = done.stdout.rstrip().splitlines()[-1]
    assert last.startswith("archive: "), done.stdout + done.stderr
    return Path(last.removeprefix("archive: "))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive holding a passing run of clause 23, then one whose S1SP fails four of its seven scenarios."""
    folder = tmp_path_factory.mktemp("archive") / "runs"
    passing = run_in(folder, "run", "--clause", "23", "--dmc", "secure-esme")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    failing = run_in(folder, "run", "--clause", "23", "--dmc", "secure-esme", "--s1sp", FAILING_S1SP)
    assert failing.returncode == 1, failing.stdout + failing.stderr
    return folder


def runs_of(archive: Path) -> list[dict[str, Any]]:
    done = run_in(archive, "runs", "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    rows: list[dict[str, Any]] = json.loads(done.stdout)
    return rows


@pytest.fixture(scope="module")
def failing_run(archive: Path) -> Path:
    """The folder of the failing run (the newest)."""
    return archive / str(runs_of(archive)[0]["name"])


def test_a_run_with_failures_is_kept_with_its_reports_its_journal_and_a_manifest(failing_run: Path) -> None:
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{6}", failing_run.name)
    assert sorted(p.name for p in failing_run.iterdir()) == RUN_FILES
    manifest = json.loads((failing_run / "manifest.json").read_text())
    assert manifest["manifest"] == "s1sr-run-manifest" and manifest["format"] == 1
    assert manifest["name"] == failing_run.name and failing_run.name.endswith("-" + manifest["id"])
    assert manifest["verdict"] == "NOT CONFORMANT" and manifest["exit_code"] == 1
    assert manifest["interrupted"] is False
    assert manifest["summary"] == {"passed": 3, "failed": 4, "error": 0, "waived": 0, "not applicable": 0, "not run": 0}
    assert (manifest["s1sr_version"], manifest["dmc"]) == ("4.3", ["secure-esme"])
    assert (manifest["adapter"], manifest["target"], manifest["target_url"]) == ("simulated", "in-process", None)
    assert manifest["s1sp"] == FAILING_S1SP
    assert manifest["rerun_of"] is None
    assert manifest["command_line"] == [
        "s1sr", "run", "--clause", "23", "--dmc", "secure-esme", "--s1sp", FAILING_S1SP,
    ]  # fmt: skip
    assert manifest["host"] == socket.gethostname()
    assert manifest["tool"]["s1sr"] == "0.1.0"
    # The folder is named by the UTC second the run began.
    started = manifest["started"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", started)
    assert failing_run.name.startswith(started[:19].replace("-", "").replace(":", "") + "Z-")
    assert manifest["started"] <= manifest["finished"]
    # Every file of the folder but the manifest, hashed.
    assert sorted(manifest["files"]) == [name for name in RUN_FILES if name != "manifest.json"]
    for name, entry in manifest["files"].items():
        assert entry == {"sha256": sha256(failing_run / name), "bytes": (failing_run / name).stat().st_size}
    results = json.loads((failing_run / "results.json").read_text())
    assert sorted(s["id"] for s in results["scenarios"] if s["outcome"] == "failed") == FAILED_IDS


def test_the_manifest_hashes_every_feature_and_catalogue_file_read_and_names_their_commit(failing_run: Path) -> None:
    manifest = json.loads((failing_run / "manifest.json").read_text())
    (features,) = manifest["inputs"]["features"]
    assert features["folder"] == str(REPO / "features")
    assert features["files"]["23-annex-c-defaults.feature"] == sha256(REPO / "features" / "23-annex-c-defaults.feature")
    assert sorted(features["files"]) == sorted(p.name for p in (REPO / "features").glob("*.feature"))
    catalogue = manifest["inputs"]["catalogue"][-1]
    data = REPO / "s1sr" / "catalogue" / "data"
    assert catalogue["folder"] == str(data)
    for name in ("s1sr-4.3.toml", "s1sr-4.2.toml", "device-models.toml", "outcomes.toml"):
        assert catalogue["files"][name] == sha256(data / name)
    if (REPO / ".git").exists():  # from a checkout (not an unpacked sdist): its commit, and whether it is dirty
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
        assert features["source"]["commit"] == head.stdout.strip()
        assert catalogue["source"]["commit"] == head.stdout.strip()
        assert isinstance(features["source"]["dirty"], bool)
    else:
        assert features["source"] is None
    assert len(manifest["inputs"]["features_sha256"]) == 64 and len(manifest["inputs"]["catalogue_sha256"]) == 64


def test_the_manifest_names_the_certificate_the_responses_are_signed_with(tmp_path: Path) -> None:
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "archive test S1SP")])
    credentials = self_signed(name, 2, "test")
    (tmp_path / "key.pem").write_bytes(credentials.key_pem)
    (tmp_path / "cert.pem").write_bytes(credentials.cert_pem)
    expected = x509.load_pem_x509_certificate(credentials.cert_pem).fingerprint(hashes.SHA256()).hex()
    done = run_in(
        tmp_path / "runs", "run", "--clause", "18.62", "--dmc", "secure-esme",
        "--signing-key", str(tmp_path / "key.pem"), "--signing-cert", str(tmp_path / "cert.pem"),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = json.loads((archived(done) / "manifest.json").read_text())
    assert manifest["signing"]["responses"] == [{"sha256": expected, "subject": "CN=archive test S1SP"}]
    assert manifest["signing"]["source"] == str(tmp_path / "key.pem")
    assert manifest["signing"]["user"] is None


def test_runs_lists_the_archive_newest_first(archive: Path) -> None:
    rows = runs_of(archive)
    assert [(r["verdict"], r["summary"]["passed"], r["summary"]["failed"]) for r in rows] == [
        ("NOT CONFORMANT", 3, 4),
        ("CONFORMANT", 7, 0),
    ]
    assert rows[0]["started"] >= rows[1]["started"]
    assert [r["s1sp"] for r in rows] == [FAILING_S1SP, "reference"]
    done = run_in(archive, "runs", "--archive-dir", str(archive))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    newest = next(i for i, line in enumerate(lines) if rows[0]["id"] in line)
    oldest = next(i for i, line in enumerate(lines) if rows[1]["id"] in line)
    assert newest < oldest
    assert "NOT CONFORMANT" in lines[newest] and "3 passed, 4 failed" in lines[newest]
    assert "S1SR 4.3 (clause 23) on secure-esme;" in lines[newest]


def test_runs_of_an_empty_or_absent_archive_says_so(tmp_path: Path) -> None:
    done = run_in(tmp_path / "none", "runs")
    assert (done.returncode, done.stdout.strip()) == (0, f"no runs in {tmp_path / 'none'}")


def test_a_run_is_found_by_its_id_a_prefix_its_name_or_its_path(
    archive: Path, failing_run: Path, tmp_path: Path
) -> None:
    run_id = failing_run.name.rpartition("-")[2]
    for ref in (run_id, run_id[:4], failing_run.name, str(failing_run)):
        assert find_run(ref, archive).folder.name == failing_run.name
    with pytest.raises(InputError, match="names no run in the archive"):
        find_run("fffffff", archive)
    for name in ("20260101T000000Z-abc123", "20260101T000001Z-abc456"):
        (tmp_path / name).mkdir()
    with pytest.raises(InputError, match=r"is the start of 2 runs' ids \(20260101T000000Z-abc123, 20260101T"):
        find_run("abc", tmp_path)


def test_the_default_run_makes_its_archive_in_the_working_folder(tmp_path: Path) -> None:
    done = s1sr("run", "--clause", "18.62", "--dmc", "secure-esme", cwd=tmp_path, env={"S1SR_ARCHIVE_DIR": ""})
    assert done.returncode == 0, done.stdout + done.stderr
    folder = archived(done)
    assert folder.parent == Path("s1sr-runs")
    assert sorted(p.name for p in (tmp_path / folder).iterdir()) == RUN_FILES
    assert [p.name for p in (tmp_path / "s1sr-runs").iterdir()] == [folder.name]  # nothing hidden left behind


def test_a_run_given_an_archive_folder_or_no_archive(tmp_path: Path) -> None:
    done = run_in(tmp_path / "env", "run", "--clause", "18.62", "--dmc", "secure-esme",
                  "--archive-dir", str(tmp_path / "given"))  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert archived(done).parent == tmp_path / "given"
    assert not (tmp_path / "env").exists()
    done = run_in(tmp_path / "env", "run", "--clause", "18.62", "--dmc", "secure-esme", "--no-archive")
    assert done.returncode == 0, done.stdout + done.stderr
    assert not done.stdout.rstrip().splitlines()[-1].startswith("archive:")
    assert not (tmp_path / "env").exists()


def test_a_bad_usage_run_is_not_archived(tmp_path: Path) -> None:
    line = one_line_error(run_in(tmp_path / "runs", "run", "--clause", "99"))
    assert line.startswith("s1sr: error: --clause: unknown clause '99'; choose from ")
    assert not (tmp_path / "runs").exists()  # nor the archive folder it would have made


def test_an_archive_that_cannot_be_written_is_one_line_and_nothing_runs(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    line = one_line_error(run_in(tmp_path / "a-file", "run", "--clause", "18.62"))
    assert line == (
        f"s1sr: error: --archive-dir {tmp_path / 'a-file'}: is a file, not a folder; "
        "name a folder for the archive, or add --no-archive"
    )
    line = one_line_error(run_in(tmp_path / "runs", "run", "--no-archive", "--archive-dir", str(tmp_path / "x")))
    assert line == (
        f"s1sr: error: --archive-dir {tmp_path / 'x'}: is for a run that is archived, and --no-archive says not to; "
        "leave out one of them"
    )


def test_an_interrupted_run_is_archived_with_its_verdict(tmp_path: Path) -> None:
    archive = tmp_path / "runs"
    process = subprocess.Popen(
        [sys.executable, "-m", "s1sr", "run", "--dmc", "secure-esme", "--adapter-option", "latency_s=0.05"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        env={**os.environ, "S1SR_ARCHIVE_DIR": str(archive)},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not any(archive.glob(".s1sr-staging-*/journal.jsonl")) and time.monotonic() < deadline:
        time.sleep(0.05)
    journal = next(archive.glob(".s1sr-staging-*/journal.jsonl"))
    while journal.read_text().count('"kind":"scenario"') < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stdout + stderr
    folder = Path(stdout.rstrip().splitlines()[-1].removeprefix("archive: "))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert (manifest["interrupted"], manifest["exit_code"], manifest["verdict"]) == (True, 130, "INCONCLUSIVE")
    assert manifest["summary"]["passed"] >= 2 and manifest["summary"]["not run"] >= 1
    assert sorted(p.name for p in archive.iterdir()) == [folder.name]


def test_the_test_session_keeps_archives_out_of_the_repository() -> None:
    # Tests run s1sr in the checkout (tests.conftest.s1sr's default cwd): their runs must be archived elsewhere,
    # so the session names an archive folder outside the repository (tests/conftest.py sets S1SR_ARCHIVE_DIR).
    folder = os.environ.get("S1SR_ARCHIVE_DIR", "")
    assert folder, "tests/conftest.py must set S1SR_ARCHIVE_DIR for the session (else runs land in ./s1sr-runs)"
    assert REPO not in Path(folder).resolve().parents
    if (REPO / ".git").exists():
        done = subprocess.run(["git", "-C", str(REPO), "check-ignore", "-q", "s1sr-runs/"], check=False)
        assert done.returncode == 0, ".gitignore must name s1sr-runs/, where a run in the checkout keeps its archive"


# --- export and verify-export ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def export(archive: Path, failing_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("export") / "run.zip"
    done = run_in(archive, "export", failing_run.name.rpartition("-")[2], "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == f"export: {out} (run {failing_run.name}, 6 files)"
    return out


def test_an_export_is_one_folder_in_a_fixed_order_with_fixed_times(export: Path, failing_run: Path) -> None:
    with zipfile.ZipFile(export) as archive:
        members = archive.infolist()
    assert [m.filename for m in members] == [
        f"{failing_run.name}/{name}"
        for name in ["manifest.json", "cucumber.json", "index.html", "journal.jsonl", "junit.xml", "results.json"]
    ]
    started = failing_run.name.partition("T")
    day = (int(started[0][:4]), int(started[0][4:6]), int(started[0][6:8]))
    clock = (int(started[2][:2]), int(started[2][2:4]), int(started[2][4:6]) // 2 * 2)
    assert {m.date_time for m in members} == {(*day, *clock)}
    assert {m.external_attr >> 16 for m in members} == {stat.S_IFREG | 0o644}


def test_exporting_a_run_twice_gives_the_same_bytes(archive: Path, failing_run: Path, export: Path) -> None:
    again = export.with_name("again.zip")
    done = run_in(archive, "export", str(failing_run), "--out", str(again))
    assert done.returncode == 0, done.stdout + done.stderr
    assert again.read_bytes() == export.read_bytes()


def test_an_untouched_export_verifies(export: Path, failing_run: Path) -> None:
    done = s1sr("verify-export", str(export))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == (
        f"{export}: all 5 files match the manifest of run {failing_run.name} (NOT CONFORMANT, S1SR 4.3)"
    )


def _rezip(source: Path, target: Path, change: dict[str, bytes | None], add: dict[str, bytes] | None = None) -> None:
    """``source`` again at ``target``, members whose short name is in ``change`` replaced (None: left out)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        top = old.namelist()[0].partition("/")[0]
        for info in old.infolist():
            short = info.filename.partition("/")[2]
            data = change.get(short, old.read(info)) if short in change else old.read(info)
            if data is not None:
                new.writestr(info, data)
        for short, data in (add or {}).items():
            new.writestr(f"{top}/{short}", data)


def test_one_byte_changed_in_an_exported_file_is_named(export: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(export) as original:
        name = next(n for n in original.namelist() if n.endswith("/results.json"))
        data = bytearray(original.read(name))
    data[100] = ord("x") if data[100] != ord("x") else ord("y")  # one byte, the same length
    tampered = tmp_path / "tampered.zip"
    _rezip(export, tampered, {"results.json": bytes(data)})
    done = s1sr("verify-export", str(tampered))
    assert done.returncode == 1, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("differs: results.json (SHA-256 ")
    assert lines[1].startswith(f"{tampered}: 1 file(s) do not match the manifest of run ")


def test_a_missing_and_an_extra_file_are_named(export: Path, tmp_path: Path) -> None:
    changed = tmp_path / "changed.zip"
    _rezip(export, changed, {"junit.xml": None}, add={"notes.txt": b"added later"})
    done = s1sr("verify-export", str(changed))
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.strip().splitlines()[:2] == [
        "missing: junit.xml (the manifest lists it)",
        "extra: notes.txt (not in the manifest)",
    ]


def test_a_byte_damaged_inside_the_zip_names_the_file(export: Path, tmp_path: Path) -> None:
    data = bytearray(export.read_bytes())
    with zipfile.ZipFile(export) as archive:
        info = next(i for i in archive.infolist() if i.filename.endswith("/journal.jsonl"))
    name_length = len(info.filename.encode())
    start = info.header_offset + 30 + name_length + len(info.extra)  # the member's compressed bytes
    data[start + info.compress_size // 2] ^= 0xFF
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(data))
    done = s1sr("verify-export", str(damaged))
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.splitlines()[0].startswith("differs: journal.jsonl (")


def _zip(path: Path, members: dict[str, bytes], links: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name)
            if name in links:
                info.create_system = 3
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(info, data)
    return path


@pytest.mark.parametrize(
    ("members", "links", "message"),
    [
        ({"run/results.json": b"{}"}, (), "holds no run/manifest.json: not an s1sr run export"),
        ({"run/manifest.json": b"{}"}, (), 'is not an s1sr run manifest (no "manifest": "s1sr-run-manifest")'),
        ({"run/manifest.json": b"{}", "run/../../evil": b"x"}, (), "which is not a file of the run's folder"),
        ({"/abs/manifest.json": b"{}"}, (), "holds '/abs/manifest.json', which is not in a run's folder"),
        ({"../manifest.json": b"{}"}, (), "holds '../manifest.json', which is not in a run's folder"),
        ({"run/manifest.json": b"{}", "other/x": b"x"}, (), "is not one run's folder (it holds other, run)"),
        ({"run/manifest.json": b"{}", "run/link": b"/etc/passwd"}, ("run/link",), "which is a symbolic link"),
        ({"run/sub/manifest.json": b"{}"}, (), "which is not a file of the run's folder"),
    ],
)
def test_a_zip_that_is_not_an_export_is_refused_in_one_line(
    tmp_path: Path, members: dict[str, bytes], links: tuple[str, ...], message: str
) -> None:
    line = one_line_error(s1sr("verify-export", str(_zip(tmp_path / "x.zip", members, links))))
    assert message in line


def test_a_file_that_is_not_a_zip_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x.zip").write_text("hello")
    line = one_line_error(s1sr("verify-export", str(tmp_path / "x.zip")))
    assert line == f"s1sr: error: {tmp_path / 'x.zip'}: is not a zip file (it has no end of central directory record)"


def test_zip_reading_is_bounded_in_members_and_sizes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    many = _zip(tmp_path / "many.zip", {f"run/f{i}": b"" for i in range(1001)})
    with pytest.raises(InputError, match=r"has 1001 members, more than an s1sr export's 1000"):
        verify_export(many)
    big = tmp_path / "big.zip"
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("run/manifest.json", b"{}")
        archive.writestr("run/zeros", bytes(2**20))  # 1 MiB of zeros deflates to 1 KiB
    monkeypatch.setattr(export_module, "MAX_MEMBER_BYTES", 2**20 - 1)
    with pytest.raises(InputError, match=r"holds 'run/zeros' of 1048576 bytes, more than an s1sr export's"):
        verify_export(big)
    monkeypatch.setattr(export_module, "MAX_MEMBER_BYTES", 2**20)
    monkeypatch.setattr(export_module, "MAX_TOTAL_BYTES", 2**20)
    with pytest.raises(InputError, match=r"holds more than 0 GiB"):
        verify_export(big)


def test_a_run_folder_changed_since_the_run_is_not_exported(archive: Path, failing_run: Path, tmp_path: Path) -> None:
    copy = tmp_path / failing_run.name
    copy.mkdir()
    for path in failing_run.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    with (copy / "junit.xml").open("ab") as handle:
        handle.write(b"\n")
    done = run_in(archive, "export", str(copy), "--out", str(tmp_path / "out.zip"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stdout.startswith("differs: junit.xml (SHA-256 ")
    assert done.stderr.strip().endswith("1 file(s) no longer match the run's manifest; nothing exported")
    assert not (tmp_path / "out.zip").exists()


def test_an_unknown_run_is_one_line(archive: Path, tmp_path: Path) -> None:
    line = one_line_error(run_in(archive, "export", "fffffff", "--out", str(tmp_path / "x.zip")))
    assert line == (
        f"s1sr: error: run 'fffffff': names no run in the archive {archive}; see s1sr runs, or give --archive-dir"
    )


def test_a_run_over_duis_names_its_target_and_the_users_and_the_endpoints_certificates(tmp_path: Path) -> None:
    from tests.duis_rig import USER, make_user, write_pair
    from tests.test_duis_target_run import User, _start, _stop, duis_args, serve_s1sp

    user = User(*write_pair(make_user(USER, "test User"), tmp_path, "user"))
    process, rig = _start("serve-device", "--dmc", "secure-esme", "--port", "0")
    try:
        with serve_s1sp(user, rig, tmp_path) as served:
            done = run_in(tmp_path / "runs", *duis_args(user, rig, served, "--clause", "18.62"))
    finally:
        _stop(process)
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = json.loads((archived(done) / "manifest.json").read_text())
    assert (manifest["target"], manifest["target_url"]) == ("duis", served.url)
    assert manifest["s1sp"] == f"duis {served.url}"
    assert manifest["adapter"] == "remote" and manifest["adapter_options"]["url"] == rig

    def fingerprint(path: Path) -> str:
        return x509.load_pem_x509_certificate(path.read_bytes()).fingerprint(hashes.SHA256()).hex()

    assert manifest["signing"]["user"]["sha256"] == fingerprint(user.cert)
    assert manifest["signing"]["user"]["subject"] == "2.5.4.45=#0090b3d51f30010000,CN=test User"  # the User's EUI
    assert [c["sha256"] for c in manifest["signing"]["responses"]] == [fingerprint(served.trust)]


def test_a_run_that_cannot_be_archived_leaves_no_run_folder_and_keeps_its_journal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from s1sr.archive import recorder
    from s1sr.plugin.settings import build_settings
    from s1sr.runner import RunOptions

    archive = recorder.RunArchive.open(recorder.ArchiveRequest(tmp_path / "runs", ("s1sr", "run")))
    archive.journal.write_text("")  # what the run's journal would be
    archive.settings = build_settings(
        version="4.3", dmcs=["secure-esme"], feature_dirs=[], xsd=None, start=tmp_path, signing_key=None,
        signing_cert=None, timeout_s=30.0, adapter="simulated", adapter_options=[], s1sp=None, s1sp_version=None,
    )  # fmt: skip
    assert recorder.abandoned(tmp_path / "runs") == []  # held by this run

    def full_disk(path: Path, data: bytes) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(recorder, "write_new_file", full_disk)
    with pytest.raises(S1srError, match="the run was not archived") as caught:
        archive.keep(RunOptions(version="4.3"))
    assert caught.value.line() == (
        f"--archive-dir {tmp_path / 'runs'}: the run was not archived (No space left on device); its journal is in "
        f"{archive.staging}; free space or choose a writable folder"
    )
    assert [p.name for p in (tmp_path / "runs").iterdir()] == [archive.staging.name]
    assert recorder.abandoned(tmp_path / "runs") == [archive.staging]
    assert (archive.staging / "journal.jsonl").exists()
