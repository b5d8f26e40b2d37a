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
)
VERDICT_COLUMNS = ("passed", "failed", "error", "not applicable")


@dataclass
class ClauseEvidence:
    """One clause as the pack shows it."""

    clause: Clause
    scenarios: list[str] = field(default_factory=list)
    verdicts: dict[str, int] = field(default_factory=dict)
    by_model: dict[str, dict[str, int]] = field(default_factory=dict)

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
        return list(self.evidence.values())


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
            if s["name"] not in e.scenarios:
                e.scenarios.append(s["name"])
    return Pack(catalogue, results, evidence)


def _header(pack: Pack) -> list[str]:
    r = pack.results
    return [
        f"S1SR {pack.catalogue.version} ({pack.catalogue.status}), Secure cohort.",
        f"Last run: {r.get('finished') or r.get('started', '?')}, DMCs {', '.join(r.get('dmc', []))}, "
        f"adapter {r.get('adapter', '?')}, S1SP {r.get('s1sp', '?')}; "
        + ", ".join(f"{n} {v}" for v, n in r.get("summary", {}).items()),
        "Provenance: 'consultation' = stated in the consultation's change table; 'interpretation' = this "
        "project's reading of detail the table does not state.",
    ]


def _models() -> list[str]:
    return [m.id for m in device_models().values() if m.device_type != "CHF"]


def _cell(e: ClauseEvidence, model: str) -> str:
    applies = e.clause.applies_to(model)
    row = e.by_model.get(model, {})
    ran = ", ".join(f"{n} {v}" for v, n in row.items() if v != "not applicable")
    if not applies:
        return "not applicable"
    return f"applies ({ran})" if ran else "applies (not run)"


def pack_markdown(pack: Pack) -> str:
    """The pack as Markdown."""
    lines = ["# S1SR consultation evidence pack", "", *_header(pack), ""]
    for qid, question in QUESTIONS:
        lines += [f"## {qid}. {question}", ""]
        lines += ["| clause | title | reading | provenance | scenarios | verdicts of the last run |"]
        lines += ["| --- | --- | --- | --- | --- | --- |"]
        for e in pack.for_question(qid):
            c = e.clause
            lines.append(
                f"| {c.id} | {c.title} | {c.reading} | {c.provenance} / detail: {c.detail_provenance} "
                f"| {len(e.scenarios)} | {e.verdict_text()} |"
            )
        if qid == "Q2":
            lines += ["", "Annex C as the reference S1SP applies it:", ""]
            lines += ["| SRV | command | field | value | unit | provenance |", "| --- | --- | --- | --- | --- | --- |"]
            for d in pack.catalogue.annex_c:
                lines.append(
                    f"| {d.srv} | {d.command} | {d.field} | {json.dumps(d.value)} | {d.unit or '-'} | {d.provenance} |"
                )
        if qid == "Q3":
            models = _models()
            lines += ["", "Clauses by device model (Annex A), with the verdicts of the last run:", ""]
            lines += ["| clause | " + " | ".join(models) + " |", "| --- |" + " --- |" * len(models)]
            for e in pack.for_question(qid):
                lines.append(f"| {e.clause.id} | " + " | ".join(_cell(e, m) for m in models) + " |")
        lines.append("")
    return "\n".join(lines)


def pack_docx(pack: Pack) -> bytes:
    """The pack as a Word document (python-docx), one section per question."""
    from docx import Document
    from docx.shared import Pt

    document = Document()
    document.styles["Normal"].font.size = Pt(9)
    document.add_heading("S1SR consultation evidence pack", level=0)
    for line in _header(pack):
        document.add_paragraph(line)
    for qid, question in QUESTIONS:
        document.add_heading(f"{qid}. {question}", level=1)
        rows = pack.for_question(qid)
        table = document.add_table(rows=1, cols=6)
        table.style = "Table Grid"
        for cell, text in zip(
            table.rows[0].cells,
            ("clause", "title", "reading", "provenance", "scenarios", "verdicts of the last run"),
            strict=True,
        ):
            cell.text = text
        for e in rows:
            c = e.clause
            values = (
                c.id,
                c.title,
                c.reading,
                f"{c.provenance} / detail: {c.detail_provenance}",
                "\n".join(e.scenarios) or "none",
                e.verdict_text(),
            )
            for cell, text in zip(table.add_row().cells, values, strict=True):
                cell.text = text
        if qid == "Q2":
            document.add_paragraph("Annex C as the reference S1SP applies it:")
            annex = document.add_table(rows=1, cols=6)
            annex.style = "Table Grid"
            for cell, text in zip(
                annex.rows[0].cells, ("SRV", "command", "field", "value", "unit", "provenance"), strict=True
            ):
                cell.text = text
            for d in pack.catalogue.annex_c:
                values = (d.srv, d.command, d.field, json.dumps(d.value), d.unit or "-", d.provenance)
                for cell, text in zip(annex.add_row().cells, values, strict=True):
                    cell.text = text
        if qid == "Q3":
            models = _models()
            document.add_paragraph("Clauses by device model (Annex A), with the verdicts of the last run:")
            matrix = document.add_table(rows=1, cols=1 + len(models))
            matrix.style = "Table Grid"
            for cell, text in zip(matrix.rows[0].cells, ("clause", *models), strict=True):
                cell.text = text
            for e in rows:
                for cell, text in zip(
                    matrix.add_row().cells, (e.clause.id, *(_cell(e, m) for m in models)), strict=True
                ):
                    cell.text = text
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
