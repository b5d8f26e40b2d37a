"""``s1sr compare RUN_A RUN_B``: every scenario whose verdict changed from one archived run to the other.

Scenarios are matched by their id and DMC (the id is stable: feature file, scenario line, Examples line and
row). The changes come in five groups, in this order: regressions (passed in A, anything else in B), fixes
(anything else in A, passed in B), other changes (such as failed to error), then scenarios new in B and
scenarios B no longer has. A regression is what CI gates on. Runs of different S1SR versions compare all the
same; the comparison says so first.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from s1sr.archive.store import ArchivedRun
from s1sr.catalogue import clause_key
from s1sr.errors import InputError
from s1sr.report.results import VERDICTS

#: Largest results.json read (a run's evidence holds every request and response).
MAX_RESULTS_BYTES = 2**30
#: The groups of a comparison, in the order they are shown.
GROUPS = ("regressions", "fixes", "changes", "new", "removed")


@dataclass(frozen=True)
class Change:
    """One scenario example whose verdict is not the same in both runs (``before`` or ``after`` None: absent)."""

    id: str
    dmc: str
    name: str
    clauses: list[str]
    before: str | None
    after: str | None
    #: Why it is what it is in B (or in A, when removed).
    reason: str = ""


@dataclass
class Comparison:
    """Run A against run B: the changes by group."""

    a: dict[str, Any]
    b: dict[str, Any]
    regressions: list[Change] = field(default_factory=list)
    fixes: list[Change] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    new: list[Change] = field(default_factory=list)
    removed: list[Change] = field(default_factory=list)

    @property
    def versions_differ(self) -> bool:
        """Whether the two runs are of different S1SR versions."""
        return bool(self.a["s1sr_version"] != self.b["s1sr_version"])

    def exit_code(self) -> int:
        """1 when a scenario regressed, else 0."""
        return 1 if self.regressions else 0

    def as_dict(self) -> dict[str, Any]:
        """The comparison as ``--json`` prints it."""
        return {
            "a": self.a,
            "b": self.b,
            "versions_differ": self.versions_differ,
            **{group: [asdict(c) for c in getattr(self, group)] for group in GROUPS},
        }


def compare_runs(a: ArchivedRun, b: ArchivedRun) -> Comparison:
    """Compare the verdicts of run ``a`` with those of run ``b``."""
    before, after = _verdicts(a), _verdicts(b)
    result = Comparison(_about(a), _about(b))
    for key in sorted(before.keys() | after.keys(), key=lambda k: _order(before.get(k) or after[k])):
        old, new = before.get(key), after.get(key)
        if old is not None and new is not None and old["outcome"] == new["outcome"]:
            continue
        shown = new or old
        assert shown is not None
        change = Change(
            id=key[0],
            dmc=key[1],
            name=str(shown.get("name", "")),
            clauses=[str(c) for c in shown.get("clauses") or []],
            before=old["outcome"] if old else None,
            after=new["outcome"] if new else None,
            reason=str(shown.get("reason") or ""),
        )
        if old is None:
            result.new.append(change)
        elif new is None:
            result.removed.append(change)
        elif old["outcome"] == "passed":
            result.regressions.append(change)
        elif new["outcome"] == "passed":
            result.fixes.append(change)
        else:
            result.changes.append(change)
    return result


def _about(run: ArchivedRun) -> dict[str, Any]:
    """What the comparison says of a run: its name, id, time, version, verdict and counts."""
    m = run.manifest
    return {
        "name": run.name,
        "id": run.id,
        "started": m["started"],
        "s1sr_version": m["s1sr_version"],
        "verdict": m["verdict"],
        "summary": m["summary"],
        "tested": run.what_was_tested(),
    }


def _order(scenario: dict[str, Any]) -> tuple[Any, ...]:
    """Clause order (18.3 before 18.16), then DMC, then id."""
    clauses = scenario.get("clauses") or ["(no clause)"]
    return (clause_key(str(clauses[0])), str(scenario["dmc"]), str(scenario["id"]))


def _verdicts(run: ArchivedRun) -> dict[tuple[str, str], dict[str, Any]]:
    """The run's scenarios by (id, DMC), from its results.json; :class:`InputError` for one that cannot be read."""
    path = run.folder / "results.json"
    where = str(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_RESULTS_BYTES + 1)
    except OSError as exc:
        raise InputError(f"cannot read the run's results ({exc.strerror or exc})", where) from None
    if len(data) > MAX_RESULTS_BYTES:
        raise InputError(f"is larger than {MAX_RESULTS_BYTES // 2**20} MiB", where)
    try:
        results = json.loads(data)
    except ValueError as exc:
        raise InputError(f"is not a run record (not JSON: {exc})", where) from None
    scenarios = results.get("scenarios") if isinstance(results, dict) else None
    if not isinstance(scenarios, list):
        raise InputError("is not a run record (no list of scenarios)", where)
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for scenario in scenarios:
        if not (
            isinstance(scenario, dict)
            and isinstance(scenario.get("id"), str)
            and isinstance(scenario.get("dmc"), str)
            and scenario.get("outcome") in VERDICTS
        ):
            raise InputError("is not a run record (a scenario without its id, DMC or outcome)", where)
        found[(scenario["id"], scenario["dmc"])] = scenario
    return found
