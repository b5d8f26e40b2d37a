"""`s1sr consultation` writes a .docx that python-docx reads back, one section per question, and its Markdown twin."""

from __future__ import annotations

import shutil
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


def test_the_docx_has_one_section_per_question(pack: Path) -> None:
    document = Document(str(pack / "consultation.docx"))
    headings = [p.text for p in document.paragraphs if p.style is not None and p.style.name == "Heading 1"]
    assert [h.split(".")[0] for h in headings] == ["Q1", "Q2", "Q3"]
    q1 = document.tables[0]
    clauses = [row.cells[0].text for row in q1.rows[1:]]
    assert clauses == ["18.3", "18.4", "18.5", "18.8", "18.16", "18.27", "18.37", "18.62", "18.63", "18.65"]
    row_1862 = next(row for row in q1.rows if row.cells[0].text == "18.62")
    assert row_1862.cells[5].text == "38 passed, 0 failed, 0 error, 0 not applicable"
    assert "consultation / detail: interpretation" in row_1862.cells[3].text


def test_q2_has_the_annex_c_table_and_q3_the_matrix(pack: Path) -> None:
    document = Document(str(pack / "consultation.docx"))
    annex = document.tables[2]
    assert [c.text for c in annex.rows[0].cells] == ["SRV", "command", "field", "value", "unit", "provenance"]
    assert len(annex.rows) == 5
    matrix = document.tables[4]
    assert [c.text for c in matrix.rows[0].cells] == ["clause", "secure-esme", "secure-esme-credit", "secure-gsme"]
    row_1837 = next(row for row in matrix.rows if row.cells[0].text == "18.37")
    assert row_1837.cells[3].text == "not applicable"
    assert row_1837.cells[1].text == "applies (13 passed)"
    assert row_1837.cells[2].text == "applies (not run)"


def test_the_markdown_twin(pack: Path) -> None:
    text = (pack / "consultation.md").read_text()
    assert "## Q1. " in text and "## Q2. " in text and "## Q3. " in text
    assert "| 18.65 | Former 18.64, moved unchanged |" in text


def test_without_a_run_it_runs_the_suite_first(tmp_path: Path, pack: Path) -> None:
    shutil.copy(pack / "results.json", tmp_path / "results.json")
    (tmp_path / "results.json").write_text((tmp_path / "results.json").read_text().replace('"4.3"', '"4.2"', 1))
    done = s1sr("consultation", "--report-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "running the suite first" in done.stdout
    assert Document(str(tmp_path / "consultation.docx")).paragraphs
