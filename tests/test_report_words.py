"""The page speaks the domain: command fields and values as an engineer reads them, and a legend for provenance."""

from __future__ import annotations

from pathlib import Path

from s1sr.report.html import field_words, value_words
from s1sr.report.packing import unpacked
from tests.conftest import s1sr


def test_flags_and_names_in_words() -> None:
    assert field_words("suspend_debt_disabled") == "suspend debt disabled"
    assert [value_words(v) for v in (True, False, None, 0, -1, "install-code")] == [
        "yes", "no", "none", "0", "-1", "install-code",
    ]  # fmt: skip


def test_the_page_has_no_python_values_and_explains_provenance(tmp_path: Path) -> None:
    done = s1sr("run", "--clause", "18.4", "--dmc", "secure-esme", "--report-dir", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    page = unpacked((tmp_path / "index.html").read_text())  # passes are packed
    assert "suspend debt disabled: no" in page and "suspend debt disabled: yes" in page
    assert " = True" not in page and " = False" not in page and "None<" not in page
    assert 'id="legend"' in page and "<strong>interpretation</strong>, this project's reading" in page


def test_the_annex_c_highlight_is_the_harness_s_finding_not_the_s1sp_s_label(tmp_path: Path) -> None:
    # An S1SP that labels nothing still has its Annex C fields found and highlighted; an S1SP that
    # labels everything "Annex C" does not get the request's fields highlighted.
    for s1sp, folder in (
        ("tests.s1sp_variants:LabelsNothing", "nothing"),
        ("tests.s1sp_variants:LabelsEveryFieldAnnexC", "every"),
    ):
        done = s1sr(
            "run", "--clause", "23", "--dmc", "secure-esme", "--s1sp", s1sp, "--report-dir", str(tmp_path / folder)
        )
        assert done.returncode in (0, 1), done.stdout + done.stderr
    page = unpacked((tmp_path / "nothing" / "index.html").read_text())
    assert (
        'class="annexc">debt recovery per payment percent: 0 <span class="muted">(Annex C, S1SR 4.3 (interpretation))'
        in page
    )
    assert "[S1SP:" not in page
    page = unpacked((tmp_path / "every" / "index.html").read_text())
    assert 'class="annexc">mode:' not in page and "<div>mode: prepayment" in page
    assert "[S1SP: Annex C" in page


def test_outcomes_are_shown_with_their_class(tmp_path: Path) -> None:
    done = s1sr("run", "--clause", "18.63", "--dmc", "secure-esme", "--report-dir", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    page = unpacked((tmp_path / "index.html").read_text())  # passes are packed
    assert "position 1: outcome 0 — accepted: " in page
    assert "outcome 3 — update in progress on the device&#39;s HAN: " in page


def test_the_run_s_last_line_names_the_page(tmp_path: Path) -> None:
    done = s1sr("run", "--clause", "18.16", "--dmc", "secure-esme", "--report-dir", str(tmp_path / "r"))
    assert done.returncode == 0, done.stdout + done.stderr
    report, archive = done.stdout.rstrip().splitlines()[-2:]
    assert report == f"report: {tmp_path / 'r' / 'index.html'} (and results.json, junit.xml, cucumber.json)"
    assert archive.startswith("archive: ")


def test_the_closing_table_keeps_numbers_and_headers_whole_at_80_columns() -> None:
    done = s1sr("run", "--clause", "18.62", "--clause", "18.37", env={"COLUMNS": "80"})
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("S1SR 4.3 on "))
    end = next(i for i, line in enumerate(lines) if line.startswith("51 passed, 0 failed"))
    table = lines[start + 1 : end]
    assert table and all(len(line) <= 80 for line in table)
    header = next(line for line in table if " clause " in line).split()
    assert header == ["clause", "title", "provenance", "passed", "failed", "error", "applicable", "run"]
    assert "…" not in "\n".join(table)
    row = next(line for line in table if line.strip().startswith("18.62")).split()
    assert row[0] == "18.62" and row[2:] == ["consultation", "38", "0", "0", "0", "0"]
