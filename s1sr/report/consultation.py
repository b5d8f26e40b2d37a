"""The consultation pack: per question of DCC's July 2020 S1SR consultation, the clauses, readings and verdicts.

Questions (paraphrased; the numbering follows the consultation's three questions on
the Secure changes):

- Q1: the amendments to Section 18;
- Q2: Section 23 and the Annex C default values;
- Q3: the mapping of clauses to Secure device models (Annex A, DMVES).
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

from s1sr.catalogue import Catalogue, Clause, device_models

QUESTIONS = (
    ("Q1", "Do you agree with the proposed amendments to Section 18 for the Secure cohort?"),
    ("Q2", "Do you agree with the new Section 23 and the default values of Annex C?"),
    ("Q3", "Do you agree with the mapping of the clauses to the Secure device models (Annex A)?"),
    ("Q4", "Do you agree with the proposed date for the re-designation of the S1SR?"),
)
#: Questions the harness holds no evidence for: what the pack says under them instead.
NOT_EVIDENCE = {
    "Q4": "A date is not a matter of evidence: the harness gives none for this question.",
}
VERDICT_COLUMNS = ("passed", "failed", "error", "not applicable")


@dataclass
class ClauseEvidence:
    """One clause as the pack shows it."""

    clause: Clause
    scenarios: list[str] = field(default_factory=list)
    verdicts: dict[str, int] = field(default_factory=dict)
    by_model: dict[str, dict[str, int]] = field(default_factory=dict)
    by_dmc: dict[str, dict[str, int]] = field(default_factory=dict)

    def verdict_text(self) -> str:
        """``12 passed, 0 failed, ...`` or a note when nothing ran."""
        if not any(self.verdicts.values()):
            return "no scenario in the last run"
        return ", ".join(f"{self.verdicts.get(v, 0)} {v}" for v in VERDICT_COLUMNS)


@dataclass
class Pack:
    """Everything the pack holds, before it is written as Markdown or Word."""

    catalogue: Catalogue
    results: dict[str, Any]
    evidence: dict[str, ClauseEvidence]

    def for_question(self, question: str) -> list[ClauseEvidence]:
        """The clauses a question is about."""
        if question == "Q1":
            return [e for cid, e in self.evidence.items() if cid.startswith("18.")]
        if question == "Q2":
            return [e for cid, e in self.evidence.items() if cid == "23"]
        if question == "Q3":
            return list(self.evidence.values())
        return []

    @property
    def dmcs(self) -> list[str]:
        """The DMCs of the run the pack is built from, as it ran them."""
        return [str(d) for d in self.results.get("dmc", [])]


def build_pack(catalogue: Catalogue, results: dict[str, Any]) -> Pack:
    """Gather, per clause, the scenarios of the last run and their verdicts (overall and per device model)."""
    from s1sr.catalogue import dmcs

    meter_of = {d.id: d.meter.id for d in dmcs().values()}
    evidence = {c.id: ClauseEvidence(c) for c in catalogue.clauses}
    for s in results.get("scenarios", []):
        for cid in s["clauses"]:
            e = evidence.get(cid)
            if e is None:
                continue
            e.verdicts[s["outcome"]] = e.verdicts.get(s["outcome"], 0) + 1
            model = meter_of.get(s["dmc"], s["dmc"])
            row = e.by_model.setdefault(model, {})
            row[s["outcome"]] = row.get(s["outcome"], 0) + 1
            per_dmc = e.by_dmc.setdefault(s["dmc"], {})
            per_dmc[s["outcome"]] = per_dmc.get(s["outcome"], 0) + 1
            if s["name"] not in e.scenarios:
                e.scenarios.append(s["name"])
    return Pack(catalogue, results, evidence)


def _header(pack: Pack) -> list[str]:
    r = pack.results
    return [
        f"S1SR {pack.catalogue.version} ({pack.catalogue.status}), Secure cohort.",
        f"Evidence from the run of {r.get('finished') or r.get('started', '?')}: DMCs {', '.join(pack.dmcs)}, "
        f"adapter {r.get('adapter', '?')}, S1SP {r.get('s1sp', '?')}; verdict {r.get('verdict', '?')}; "
        + ", ".join(f"{n} {v}" for v, n in r.get("summary", {}).items()),
        "Provenance: 'consultation' = stated in the consultation's change table; 'interpretation' = this "
        "project's reading of detail the table does not state (listed under each question as points to raise).",
    ]


def _models() -> list[str]:
    return [m.id for m in device_models().values() if m.device_type != "CHF"]


def _counts(counts: dict[str, int]) -> str:
    """``19 passed`` / ``12 passed, 1 failed``: the counts that are not zero, verdicts in their order."""
    return ", ".join(f"{counts[v]} {v}" for v in (*VERDICT_COLUMNS, "not run") if counts.get(v))


def _dmc_cell(e: ClauseEvidence, dmc: str) -> str:
    return _counts(e.by_dmc.get(dmc, {})) or "no scenario"


def _provenance(c: Clause) -> str:
    if c.detail_provenance == c.provenance:
        return c.provenance
    return f"{c.provenance}; detail: {c.detail_provenance}"


def _cell(e: ClauseEvidence, model: str) -> str:
    if not e.clause.applies_to(model):
        return "not applicable"
    ran = _counts({k: v for k, v in e.by_model.get(model, {}).items() if k != "not applicable"})
    return f"applies ({ran})" if ran else "applies (not in this run)"


def _evidence_rows(pack: Pack, rows: list[ClauseEvidence]) -> tuple[list[str], list[list[str]]]:
    header = ["clause", "title", "provenance", "scenarios", *pack.dmcs]
    body = [
        [
            e.clause.id,
            e.clause.title,
            _provenance(e.clause),
            str(len(e.scenarios)),
            *(_dmc_cell(e, d) for d in pack.dmcs),
        ]
        for e in rows
    ]
    return header, body


def _points(rows: list[ClauseEvidence]) -> list[str]:
    """The readings that are this project's interpretation, in whole or in detail."""
    return [
        f"{e.clause.id} {e.clause.title}: {e.clause.reading}"
        for e in rows
        if "interpretation" in (e.clause.provenance, e.clause.detail_provenance)
    ]


def _annex_c(pack: Pack) -> tuple[list[str], list[list[str]]]:
    return ["SRV", "command", "field", "value", "unit", "provenance"], [
        [d.srv, d.command, d.field, json.dumps(d.value), d.unit or "-", d.provenance] for d in pack.catalogue.annex_c
    ]


def _matrix(pack: Pack) -> tuple[list[str], list[list[str]]]:
    models = _models()
    return ["clause", *models], [[e.clause.id, *(_cell(e, m) for m in models)] for e in pack.for_question("Q3")]


def _appendix(pack: Pack) -> list[tuple[str, list[str]]]:
    return [(f"{e.clause.id} {e.clause.title}", e.scenarios) for e in pack.evidence.values() if e.scenarios]


RESPONSE_PROMPT = "Response: Agree / Disagree / Not sure (delete as appropriate). Comments:"


def pack_markdown(pack: Pack) -> str:
    """The pack as Markdown: the same questions, response prompts, evidence and appendix as the Word file."""

    def table(header: list[str], body: list[list[str]]) -> list[str]:
        return [
            "| " + " | ".join(header) + " |",
            "|" + " --- |" * len(header),
            *("| " + " | ".join(row) + " |" for row in body),
        ]

    lines = ["# S1SR consultation evidence pack", "", *_header(pack), ""]
    for qid, question in QUESTIONS:
        lines += [f"## {qid}. {question}", "", f"> {RESPONSE_PROMPT}", ">", ""]
        if qid in NOT_EVIDENCE:
            lines += [NOT_EVIDENCE[qid], ""]
            continue
        rows = pack.for_question(qid)
        if qid in ("Q1", "Q2"):
            lines += [
                "Evidence, per clause (verdicts of the run, per DMC):",
                "",
                *table(*_evidence_rows(pack, rows)),
                "",
            ]
        if qid == "Q2":
            lines += ["Annex C as the reference S1SP applies it:", "", *table(*_annex_c(pack)), ""]
        if qid == "Q3":
            lines += [
                "Clauses by device model (Annex A), with the verdicts of the run:",
                "",
                *table(*_matrix(pack)),
                "",
            ]
        points = _points(rows) if qid != "Q3" else []
        if points:
            lines += ["Readings that are this project's interpretation (points you may want to raise):", ""]
            lines += [f"- {p}" for p in points] + [""]
    lines += ["## Appendix: the scenarios behind each clause", ""]
    for title, names in _appendix(pack):
        lines += [f"### {title}", "", *(f"- {n}" for n in names), ""]
    return "\n".join(lines)


#: Page and column geometry of the Word file, millimetres (A4, portrait).
PAGE_MM = (210, 297)
MARGIN_MM = 18
#: Widths of the fixed columns of the evidence table: clause, title, provenance, scenarios.
EVIDENCE_MM = (17, 48, 30, 23)
#: Height of the response box under each question.
RESPONSE_BOX_MM = 28
ANNEX_C_MM = (12, 42, 54, 24, 10, 32)


def pack_docx(pack: Pack) -> bytes:
    """The pack as a Word document (python-docx): A4, per question a response box and compact evidence tables."""
    from docx import Document
    from docx.shared import Mm, Pt

    document = Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Mm(MARGIN_MM))
    usable = PAGE_MM[0] - 2 * MARGIN_MM
    document.styles["Normal"].font.size = Pt(9)
    document.add_heading("S1SR consultation evidence pack", level=0)
    for line in _header(pack):
        document.add_paragraph(line)
    dmc_mm = (usable - sum(EVIDENCE_MM)) / max(len(pack.dmcs), 1)
    for qid, question in QUESTIONS:
        document.add_heading(f"{qid}. {question}", level=1)
        _response_box(document, usable)
        if qid in NOT_EVIDENCE:
            document.add_paragraph(NOT_EVIDENCE[qid])
            continue
        rows = pack.for_question(qid)
        if qid in ("Q1", "Q2"):
            document.add_paragraph("Evidence, per clause (verdicts of the run, per DMC):")
            _table(document, *_evidence_rows(pack, rows), (*EVIDENCE_MM, *([dmc_mm] * len(pack.dmcs))))
        if qid == "Q2":
            document.add_paragraph("Annex C as the reference S1SP applies it:")
            _table(document, *_annex_c(pack), ANNEX_C_MM)
        if qid == "Q3":
            document.add_paragraph("Clauses by device model (Annex A), with the verdicts of the run:")
            models = len(_models())
            _table(document, *_matrix(pack), (17, *([(usable - 17) / models] * models)))
        points = _points(rows) if qid != "Q3" else []
        if points:
            document.add_paragraph("")
            document.add_paragraph("Readings that are this project's interpretation (points you may want to raise):")
            for point in points:
                document.add_paragraph(point, style="List Bullet")
    document.add_heading("Appendix: the scenarios behind each clause", level=1)
    for title, names in _appendix(pack):
        document.add_heading(title, level=2)
        for name in names:
            document.add_paragraph(name, style="List Bullet")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _response_box(document: Any, usable_mm: float) -> None:
    """A one-cell box for the analyst's answer: the prompt, then room to write."""
    from docx.shared import Mm

    box = document.add_table(rows=1, cols=1)
    box.style = "Table Grid"
    cell = box.rows[0].cells[0]
    cell.width = Mm(usable_mm)
    cell.text = RESPONSE_PROMPT
    box.rows[0].height = Mm(RESPONSE_BOX_MM)  # at least: room to write
    document.add_paragraph("")


def _table(document: Any, header: list[str], body: list[list[str]], widths_mm: tuple[float, ...]) -> None:
    """A grid with fixed column widths, its header row repeated on every page and no row split across pages."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Mm

    table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.autofit = False
    for row_cells, texts in ((table.rows[0].cells, header), *((table.add_row().cells, r) for r in body)):
        for cell, text, width in zip(row_cells, texts, widths_mm, strict=True):
            cell.text = text
            cell.width = Mm(width)
    for column, width in zip(table.columns, widths_mm, strict=True):
        column.width = Mm(width)
    for index, row in enumerate(table.rows):
        properties = row._tr.get_or_add_trPr()
        properties.append(OxmlElement("w:cantSplit"))
        if index == 0:
            properties.append(OxmlElement("w:tblHeader"))
    for cell in table.rows[0].cells:
        for run in cell.paragraphs[0].runs:
            run.bold = True
    table._tbl.tblPr.append(_fixed_layout(OxmlElement, qn))


def _fixed_layout(element: Any, qn: Any) -> Any:
    layout = element("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    return layout
