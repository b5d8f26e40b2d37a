"""``index.html``: one self-contained page (no external script, font or image) for people to read a run."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

from jinja2 import Environment, StrictUndefined

from s1sr.catalogue import Catalogue, clause_key
from s1sr.report.packing import PACKED_OUTCOMES, Packer
from s1sr.report.results import CONFORMANT, NOT_CONFORMANT, RunRecord, ScenarioResult


def _environment() -> Environment:
    environment = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters["field"] = field_words
    environment.filters["value"] = value_words
    return environment


def field_words(name: str) -> str:
    """A command field as an engineer reads it: ``suspend_debt_disabled`` is "suspend debt disabled"."""
    return name.replace("_", " ")


def value_words(value: Any) -> str:
    """A value as an engineer reads it: yes / no for flags, "none" for nothing, numbers and text as they are."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "none"
    return str(value)


#: The order scenarios are listed in: what needs attention first; known deviations after the unknown ones.
OUTCOME_ORDER = ("failed", "error", "not run", "waived", "passed", "not applicable")
#: The outcomes a clause row links to the first scenario of.
LINKED = ("failed", "error", "not run", "waived")


def anchor(scenario: ScenarioResult, index: int) -> str:
    """The page anchor of a scenario: unique within the page, stable for one record."""
    return f"s{index}-" + re.sub(r"[^A-Za-z0-9]+", "-", scenario.id).strip("-")[-80:]


def ordered(record: RunRecord) -> list[tuple[str, ScenarioResult]]:
    """The scenarios: failures, errors, not run, waived, passed, not applicable; each in clause, then DMC order."""
    positions = {id(s): i for i, s in enumerate(record.scenarios)}

    def key(s: ScenarioResult) -> tuple[Any, ...]:
        first_clause = min((clause_key(c) for c in s.clauses), default=(10**6,))
        return (OUTCOME_ORDER.index(s.outcome), first_clause, s.dmc, positions[id(s)])

    return [(anchor(s, positions[id(s)]), s) for s in sorted(record.scenarios, key=key)]


def index_html(record: RunRecord, catalogue: Catalogue, *, packed: bool = True) -> bytes:
    """Render the report page for ``record`` (its deviation register judged first, if not yet).

    The bodies of passed and not applicable scenarios are carried compressed and expanded when opened
    (see :mod:`s1sr.report.packing`); ``packed=False`` inlines every body, as pages did before.
    """
    record.apply_waivers()
    template_text = resources.files("s1sr.report").joinpath("templates", "index.html.j2").read_text(encoding="utf-8")
    template = _environment().from_string(template_text)
    scenarios = ordered(record)
    rows: list[dict[str, Any]] = []
    for clause_id, counts in record.by_clause().items():
        clause = catalogue.clause(clause_id)
        links = {}
        for outcome in LINKED:
            found = next(
                (a for a, s in scenarios if s.outcome == outcome and clause_id in (s.clauses or ["(no clause)"])), None
            )
            if found is not None:
                links[outcome] = found
        rows.append(
            {
                "id": clause_id,
                "title": (clause.title + (f" [{clause.source}]" if clause.source != catalogue.version else ""))
                if clause
                else "(not in this S1SR version)",
                "provenance": f"{clause.provenance} / detail: {clause.detail_provenance}" if clause else "-",
                "counts": counts,
                "links": links,
                "attention": bool(counts["failed"] or counts["error"]),
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
        verdicts=record.shown_verdicts(),
        clause_rows=rows,
        scenarios=scenarios,
        deviations=deviation_rows(record, {s.id: a for a, s in scenarios}),
        register=record.deviations,
        signing=record.tool.get("signing"),
        tool=record.tool,
        outcome_classes={c.code: c.name for c in catalogue.outcomes},
        modifications=catalogue.modifications,
        packer=Packer(
            (a, re.sub(r"\[[^\[\]]*\]$", "", s.id), s.dmc)
            for a, s in scenarios
            if packed and s.outcome in PACKED_OUTCOMES
        ),
    )
    return page.encode("utf-8")


def deviation_rows(record: RunRecord, anchors: dict[str, str]) -> list[dict[str, Any]]:
    """The deviation register's waivers as the page lists them: applied, then expired, then unused.

    Each is the waiver's fields with ``status`` and ``links``: ``(anchor, scenario id)`` of every scenario it
    waived (applied) or would have waived (expired).
    """
    judged = record.deviations
    if judged is None:
        return []
    rows: list[dict[str, Any]] = []
    for status, key in (("applied", "scenarios"), ("expired", "would_cover"), ("unused", None)):
        for waiver in judged[status]:
            ids = waiver.get(key, []) if key else []
            rows.append(
                waiver
                | {
                    "status": status,
                    "links": [(anchors[i], i) for i in ids if i in anchors],
                    "note": waiver.get("note"),
                }
            )
    return rows
