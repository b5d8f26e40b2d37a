"""``index.html``: one self-contained page (no external script, font or image) for people to read a run."""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Iterator
from importlib import resources
from typing import Any, BinaryIO

from jinja2 import Environment, StrictUndefined, Template

from s1sr.catalogue import Catalogue, clause_key
from s1sr.report.packing import PACKED_OUTCOMES, Packer
from s1sr.report.results import CONFORMANT, NOT_CONFORMANT, RunRecord, ScenarioResult


def _environment() -> Environment:
    environment = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters["field"] = field_words
    environment.filters["value"] = value_words
    return environment


@functools.cache
def _template() -> Template:
    text = resources.files("s1sr.report").joinpath("templates", "index.html.j2").read_text(encoding="utf-8")
    return _environment().from_string(text)


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


#: How much rendered text :func:`write_index_html` gathers before each write.
CHUNK_CHARS = 64 * 1024


def anchor(scenario: ScenarioResult, index: int) -> str:
    """The page anchor of the scenario at ``index`` in its record: unique within the page, stable for one record."""
    return f"s{index}"


def example_of(scenario: ScenarioResult) -> str:
    """The scenario example a scenario runs, on any DMC: its id without the ``[DMC]`` at its end."""
    return re.sub(r"\[[^\[\]]*\]$", "", scenario.id)


def ordered(record: RunRecord) -> list[tuple[str, ScenarioResult]]:
    """The scenarios: failures, errors, not run, waived, passed, not applicable; each in clause order, then
    scenario example (in run order), then DMC: an example's verdicts on every DMC are listed together."""
    positions = {id(s): i for i, s in enumerate(record.scenarios)}
    first_seen: dict[str, int] = {}
    for i, s in enumerate(record.scenarios):
        first_seen.setdefault(example_of(s), i)

    def key(s: ScenarioResult) -> tuple[Any, ...]:
        first_clause = min((clause_key(c) for c in s.clauses), default=(10**6,))
        return (OUTCOME_ORDER.index(s.outcome), first_clause, first_seen[example_of(s)], s.dmc, positions[id(s)])

    return [(anchor(s, positions[id(s)]), s) for s in sorted(record.scenarios, key=key)]


def index_html(record: RunRecord, catalogue: Catalogue, *, packed: bool = True) -> bytes:
    """The report page for ``record``: the bytes :func:`write_index_html` writes."""
    out = io.BytesIO()
    write_index_html(record, catalogue, out, packed=packed)
    return out.getvalue()


def write_index_html(record: RunRecord, catalogue: Catalogue, out: BinaryIO, *, packed: bool = True) -> None:
    """Write the report page for ``record`` (its deviation register judged first, if not yet) to ``out``.

    The page is written as it is rendered, a chunk at a time, so a gate's page is never held whole:
    passed and not applicable scenarios are compressed a group (a feature's examples on every DMC) at a time
    (see :mod:`s1sr.report.packing`), and each scenario's evidence is iterated once, as it is rendered.
    ``packed=False`` inlines every row and body, as pages did before.
    """
    pending: list[str] = []
    size = 0
    for chunk in _page_chunks(record, catalogue, packed=packed):
        pending.append(chunk)
        size += len(chunk)
        if size >= CHUNK_CHARS:
            out.write("".join(pending).encode("utf-8"))
            pending, size = [], 0
    if pending:
        out.write("".join(pending).encode("utf-8"))


def _page_chunks(record: RunRecord, catalogue: Catalogue, *, packed: bool) -> Iterator[str]:
    record.apply_waivers()
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
    # A packed scenario's group: its feature file and outcome (those listed one after another form one group).
    groups = [
        f"{s.outcome}|{s.feature_file}" if packed and s.outcome in PACKED_OUTCOMES else None for _, s in scenarios
    ]
    yield from _template().generate(
        run=record,
        status=catalogue.status,
        verdict=f"INTERRUPTED, {verdict}" if record.interrupted else verdict,
        verdict_reason=reason,
        verdict_class={CONFORMANT: "ok", NOT_CONFORMANT: "bad"}.get(verdict, "unsure"),
        summary=record.summary(),
        not_observable=record.not_observable(),
        verdicts=record.shown_verdicts(),
        clause_rows=rows,
        scenarios=[(a, s, g) for (a, s), g in zip(scenarios, groups, strict=True)],
        packed_count=sum(g is not None for g in groups),
        deviations=deviation_rows(record, {s.id: a for a, s in scenarios}),
        register=record.deviations,
        signing=record.tool.get("signing"),
        tool=record.tool,
        outcome_classes={c.code: c.name for c in catalogue.outcomes},
        modifications=catalogue.modifications,
        packer=Packer(),
    )


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
