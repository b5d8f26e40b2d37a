"""`s1sr consultation` writes an A4 pack an analyst can send: per question a response box and compact evidence,
the matrix once, scenario names in an appendix; at most 8 pages as LibreOffice prints it; never over another run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from docx import Document

from tests.conftest import s1sr


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("pack")
    done = s1sr("run", "--report-dir", str(folder))
    assert done.returncode == 0, done.stdout + done.stderr
    done = s1sr("consultation", "--report-dir", str(folder))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "running the suite first" not in done.stdout  # it used the run that is there
    return folder


def _headings(document: object, level: int) -> list[str]:
    return [p.text for p in document.paragraphs if p.style is not None and p.style.name == f"Heading {level}"]  # type: ignore[attr-defined]


def test_a4_with_one_section_per_question_and_an_appendix(pack: Path) -> None:
    document = Document(str(pack / "consultation.docx"))
    section = document.sections[0]
    assert section.page_width is not None and section.page_height is not None
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)  # A4, portrait
    assert [h.split(".")[0] for h in _headings(document, 1)] == [
        "Q1",
        "Q2",
        "Q3",
        "Q4",
        "Appendix: the scenarios behind each clause",
    ]
    text = "\n".join(p.text for p in document.paragraphs)
    assert "A date is not a matter of evidence" in text
    assert "- Meter balance adjustment" not in text
    assert "18.3 Meter balance adjustment" in _headings(document, 2)
    assert "An adjustment of 1999 DUIS units reaches the meter as 1 pence" in text  # scenario names: appendix only


def test_q1_has_a_response_box_and_one_compact_row_per_clause(pack: Path) -> None:
    document = Document(str(pack / "consultation.docx"))
    box, q1 = document.tables[0], document.tables[1]
    assert box.rows[0].cells[0].text.startswith("Response: Agree / Disagree / Not sure")
    assert [c.text for c in q1.rows[0].cells] == [
        "clause",
        "title",
        "provenance",
        "scenarios",
        "secure-esme",
        "secure-gsme",
    ]
    assert [row.cells[0].text for row in q1.rows[1:]] == [
        "18.3", "18.4", "18.5", "18.8", "18.16", "18.27", "18.37", "18.62", "18.63", "18.65",
    ]  # fmt: skip
    rows = {row.cells[0].text: [c.text for c in row.cells] for row in q1.rows[1:]}
    assert rows["18.62"] == [
        "18.62", "JoinTimePeriod converted to minutes", "consultation; detail: interpretation", "19",
        "19 passed", "19 passed",
    ]  # fmt: skip
    assert rows["18.37"][4:] == ["13 passed", "13 not applicable"]
    assert rows["18.65"][3:] == ["0", "no scenario", "no scenario"]
    header = q1.rows[0]._tr
    assert header.xpath("./w:trPr/w:tblHeader") and header.xpath("./w:trPr/w:cantSplit")
    assert q1._tbl.xpath("./w:tblPr/w:tblLayout[@w:type='fixed']")


def test_interpretations_are_called_out_as_points_to_raise(pack: Path) -> None:
    document = Document(str(pack / "consultation.docx"))
    bullets = [p.text for p in document.paragraphs if p.style is not None and p.style.name == "List Bullet"]
    assert any(b.startswith("18.62 JoinTimePeriod converted to minutes: The S1SP sends") for b in bullets)
    assert not any(b.startswith("18.27 ") for b in bullets)  # 18.27 is stated by the consultation, detail too


def test_q2_has_the_annex_c_table_and_q3_the_matrix_once(pack: Path) -> None:
    document = Document(str(pack / "consultation.docx"))
    headers = [[c.text for c in t.rows[0].cells] for t in document.tables]
    annex = document.tables[headers.index(["SRV", "command", "field", "value", "unit", "provenance"])]
    assert len(annex.rows) == 5
    models = ["secure-esme", "secure-esme-credit", "secure-gsme", "secure-esme-twin"]
    matrices = [h for h in headers if h == ["clause", *models]]
    assert len(matrices) == 1
    matrix = document.tables[headers.index(matrices[0])]
    row_1837 = next([c.text for c in row.cells] for row in matrix.rows if row.cells[0].text == "18.37")
    assert row_1837 == ["18.37", "applies (13 passed)", "applies (not in this run)", "not applicable", "not applicable"]
    # Q1's table is not repeated under Q3: one evidence table for Q1, one for Q2 (clause 23).
    evidence = [h for h in headers if h[:4] == ["clause", "title", "provenance", "scenarios"]]
    assert len(evidence) == 2


def test_the_markdown_twin(pack: Path) -> None:
    text = (pack / "consultation.md").read_text()
    for q in ("Q1", "Q2", "Q3", "Q4"):
        assert f"## {q}. " in text
    assert "| 18.65 | Former 18.64, moved unchanged | consultation | 0 | no scenario | no scenario |" in text
    assert "## Appendix: the scenarios behind each clause" in text


def _soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        if os.environ.get("S1SR_REQUIRE_OFFICE"):
            pytest.fail("S1SR_REQUIRE_OFFICE is set but LibreOffice (soffice) is not installed")
        pytest.skip("LibreOffice is not installed (Debian: libreoffice-writer-nogui)")
    return found


def test_libreoffice_prints_it_on_at_most_8_a4_pages_without_breaking_words(pack: Path, tmp_path: Path) -> None:
    from pypdf import PdfReader

    soffice = _soffice()
    profile = tmp_path / "profile"  # its own profile: no clash with another LibreOffice
    done = subprocess.run(
        [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(pack / "consultation.docx")],
        capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    pdf = PdfReader(str(tmp_path / "consultation.pdf"))
    assert 1 <= len(pdf.pages) <= 8
    for page in pdf.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert abs(width - 595.3) < 1 and abs(height - 841.9) < 1  # A4 in points
    first = pdf.pages[0].extract_text()
    for word in ("clause", "provenance", "scenarios", "secure-esme", "secure-gsme", "interpretation"):
        assert word in first, word


def test_a_run_of_another_version_is_left_as_it_is(tmp_path: Path, pack: Path) -> None:
    folder = tmp_path / "reports"
    shutil.copytree(pack, folder)
    record = json.loads((folder / "results.json").read_text())
    record["s1sr_version"] = "4.2"
    (folder / "results.json").write_text(json.dumps(record))
    (folder / "consultation.md").unlink()
    (folder / "consultation.docx").unlink()
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    done = s1sr("consultation", "--report-dir", str(folder))
    assert done.returncode == 0, done.stdout + done.stderr
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == before
    beside = tmp_path / "reports-s1sr-4.3"
    assert "the run there is of S1SR 4.2, which stays as it is" in done.stdout
    assert json.loads((beside / "results.json").read_text())["s1sr_version"] == "4.3"
    assert Document(str(beside / "consultation.docx")).tables


def test_an_unreadable_record_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text("[1, 2]")
    done = s1sr("consultation", "--report-dir", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "not a run record" in done.stderr and "Traceback" not in done.stderr
