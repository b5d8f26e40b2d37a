"""The report header a release manager gates on: the fingerprints of the certificates the exchanges were signed
with and the archive id, on the page and in results.json; and a wall-clock timestamp on every exchange."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from s1sr.catalogue import load_catalogue
from s1sr.duis.signing import self_signed
from s1sr.report.html import index_html
from s1sr.report.packing import unpacked
from s1sr.report.results import RunRecord, ScenarioResult
from tests.conftest import s1sr

#: ``2026-11-26T19:35:12.345+00:00``: UTC, to the millisecond.
SENT_AT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00")


def _results(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "results.json").read_text())
    return data


@pytest.fixture(scope="module")
def signed_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """A run of 18.62 on the ESME signed with a key of ours, archived and reported: (report, archived run, SHA-256)."""
    folder = tmp_path_factory.mktemp("signed")
    credentials = self_signed(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "header test S1SP")]), 2, "test")
    (folder / "key.pem").write_bytes(credentials.key_pem)
    (folder / "cert.pem").write_bytes(credentials.cert_pem)
    expected = x509.load_pem_x509_certificate(credentials.cert_pem).fingerprint(hashes.SHA256()).hex()
    done = s1sr(
        "run", "--clause", "18.62", "--dmc", "secure-esme", "--report-dir", str(folder / "report"),
        "--archive-dir", str(folder / "runs"),
        "--signing-key", str(folder / "key.pem"), "--signing-cert", str(folder / "cert.pem"),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    archived = Path(done.stdout.splitlines()[-1].removeprefix("archive: "))
    return folder / "report", archived, expected


def test_results_json_carries_the_fingerprint_and_the_archive_id(signed_run: tuple[Path, Path, str]) -> None:
    report, archived, expected = signed_run
    results = _results(report)
    assert results["tool"]["signing"] == {
        "source": str(report.parent / "key.pem"),
        "responses": [{"sha256": expected, "subject": "CN=header test S1SP"}],
        "user": None,
        "note": None,
    }
    run_id = archived.name.rpartition("-")[2]
    assert re.fullmatch(r"[0-9a-f]{6}", run_id)
    assert results["archive"] == {"id": run_id, "name": archived.name}
    assert _results(archived)["archive"] == results["archive"]  # the archived copy names its own folder
    manifest = json.loads((archived / "manifest.json").read_text())
    assert manifest["signing"] == results["tool"]["signing"] and manifest["id"] == run_id


def test_the_page_header_shows_the_fingerprint_and_the_archive_id(signed_run: tuple[Path, Path, str]) -> None:
    report, archived, expected = signed_run
    run_id = archived.name.rpartition("-")[2]
    for page in (report / "index.html", archived / "index.html"):
        text = page.read_text()
        certificates = re.search(r'<dd id="certificates">(.*?)</dd>', text)
        assert certificates is not None
        assert (
            f'SMETS1 Responses: SHA-256 <code class="fp">{expected}</code> (CN=header test S1SP)' in (certificates[1])
        )
        assert f'<dd id="archive">run <code>{run_id}</code> ({archived.name})</dd>' in text


def test_every_exchange_carries_when_it_was_sent(signed_run: tuple[Path, Path, str]) -> None:
    report, _, _ = signed_run
    results = _results(report)
    started = datetime.fromisoformat(results["started"])
    finished = datetime.fromisoformat(results["finished"]) + timedelta(seconds=1)  # the record keeps whole seconds
    page = report / "index.html"
    text = unpacked(page.read_text())  # the passed scenarios' bodies are packed in the page
    exchanges = [e for s in results["scenarios"] for e in s["evidence"]]
    assert len(exchanges) >= 16
    for scenario in results["scenarios"]:
        stamps = [e["sent_at"] for e in scenario["evidence"]]
        assert all(SENT_AT.fullmatch(stamp) for stamp in stamps), stamps
        assert stamps == sorted(stamps)  # in the order sent
        for stamp in stamps:
            assert started <= datetime.fromisoformat(stamp) <= finished
    first = exchanges[0]
    assert f"sent {first['sent_at']}, {first['duration_s']:.3f} s" in html.unescape(text)
    assert datetime.fromisoformat(first["sent_at"]).tzinfo == UTC


def test_a_run_not_archived_says_so(tmp_path: Path) -> None:
    done = s1sr("run", "--clause", "18.62", "--dmc", "secure-esme", "-k", "3600", "--no-archive",
                "--report-dir", str(tmp_path / "r"))  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    results = _results(tmp_path / "r")
    assert results["archive"] is None
    assert results["tool"]["signing"]["source"] == "generated test key"
    assert len(results["tool"]["signing"]["responses"]) == 1
    assert '<dd id="archive">not archived</dd>' in (tmp_path / "r" / "index.html").read_text()


def test_over_duis_the_header_shows_the_user_s_certificate_too() -> None:
    record = RunRecord("4.3", ["secure-esme"], xsd=None, adapter="remote", s1sp="DUIS endpoint http://x")
    record.scenarios = [
        ScenarioResult("one", "f", "features/x.feature", ["18.62"], [], "secure-esme", "passed", id="x:1[secure-esme]")
    ]
    record.tool["signing"] = {
        "source": "the DUIS endpoint's signing key (the certificates trusted with --trust)",
        "responses": [{"sha256": "a" * 64, "subject": "CN=endpoint"}],
        "user": {"sha256": "b" * 64, "subject": "CN=supplier"},
        "note": None,
    }
    page = index_html(record, load_catalogue("4.3")).decode()
    endpoint, user = "a" * 64, "b" * 64
    assert (
        f'SMETS1 Responses: SHA-256 <code class="fp">{endpoint}</code> (CN=endpoint); the User\'s, over DUIS: '
        f'SHA-256 <code class="fp" id="user-certificate">{user}</code> (CN=supplier)'
    ) in page


def test_a_record_without_fingerprints_says_they_were_not_recorded() -> None:
    record = RunRecord("4.3", ["secure-esme"])
    page = index_html(record, load_catalogue("4.3")).decode()
    assert '<dd id="certificates">not recorded (s1sr run records them)</dd>' in page
    assert '<dd id="register">none</dd>' in page
