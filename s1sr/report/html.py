"""``index.html``: one self-contained page (no external script, font or image) for people to read a run."""

from __future__ import annotations

from importlib import resources
from typing import Any

from jinja2 import Environment, StrictUndefined

from s1sr.catalogue import Catalogue
from s1sr.report.results import CONFORMANT, NOT_CONFORMANT, VERDICTS, RunRecord


def _environment() -> Environment:
    return Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def index_html(record: RunRecord, catalogue: Catalogue) -> bytes:
    """Render the report page for ``record``."""
    template_text = resources.files("s1sr.report").joinpath("templates", "index.html.j2").read_text(encoding="utf-8")
    template = _environment().from_string(template_text)
    rows: list[dict[str, Any]] = []
    for clause_id, counts in record.by_clause().items():
        clause = catalogue.clause(clause_id)
        rows.append(
            {
                "id": clause_id,
                "title": clause.title if clause else "(not in this S1SR version)",
                "provenance": f"{clause.provenance} / detail: {clause.detail_provenance}" if clause else "-",
                "counts": counts,
            }
        )
    verdict, reason = record.verdict_and_reason()
    page = template.render(
        run=record,
        status=catalogue.status,
        verdict=f"INTERRUPTED, {verdict}" if record.interrupted else verdict,
        verdict_reason=reason,
        verdict_class={CONFORMANT: "ok", NOT_CONFORMANT: "bad"}.get(verdict, "unsure"),
        summary=record.summary(),
        not_observable=record.not_observable(),
        verdicts=VERDICTS,
        clause_rows=rows,
        scenarios=record.scenarios,
    )
    return page.encode("utf-8")
