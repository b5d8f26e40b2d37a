"""``s1sr diff A B``: what changes between two S1SR versions, in the catalogue and in behaviour.

Four runs of the clause scenarios against the reference S1SP give the evidence:
each version's S1SP on its own scenarios (is each version self-consistent?) and each
version's S1SP on the other's scenarios (which documented behaviours would a
re-designation change?). Runs are separate processes, so nothing of one leaks into
another.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from s1sr.catalogue import AnnexCDefault, Catalogue, Clause, clause_key, load_catalogue
from s1sr.errors import ConfigError, S1srError
from s1sr.report.files import write_atomically

#: What makes a clause "changed": what it applies to and how it is judged. Its title and the prose
#: of its reading are not compared: rewording is not a change of behaviour (the runs show that).
COMPARED = ("srvs", "provenance", "detail_provenance", "device_models", "parameters")


@dataclass
class ClauseDiff:
    """How one clause differs between versions A and B."""

    id: str
    title: str
    in_a: bool
    in_b: bool
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Scenarios of B that A's S1SP fails, and of A that B's S1SP fails (names with DMC).
    a_fails_b: list[str] = field(default_factory=list)
    b_fails_a: list[str] = field(default_factory=list)
    scenarios_a: int = 0
    scenarios_b: int = 0
    moved_from: str | None = None

    @property
    def status(self) -> str:
        """One phrase for people."""
        if self.moved_from:
            return f"moved from {self.moved_from}"
        if self.in_b and not self.in_a:
            return "added"
        if self.in_a and not self.in_b:
            return "removed"
        if self.a_fails_b or self.b_fails_a:
            return "behaviour differs"
        return "changed" if self.changes else "unchanged"


@dataclass
class VersionDiff:
    """Everything ``s1sr diff`` reports."""

    a: str
    b: str
    dmc: list[str]
    clauses: list[ClauseDiff]
    annex_c_added: list[dict[str, Any]]
    annex_c_removed: list[dict[str, Any]]
    annex_c_changed: list[dict[str, Any]]
    runs: dict[str, dict[str, int]]
    #: SRV rules (User roles, device-model traits, DCC scheduling) that differ, per SRV.
    srv_rules: list[dict[str, Any]] = field(default_factory=list)
    #: Modification packs in force in A and in B.
    modifications: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` document."""
        return {
            "a": self.a,
            "b": self.b,
            "dmc": self.dmc,
            "clauses": [{**asdict(c), "status": c.status} for c in self.clauses],
            "annex_c": {"added": self.annex_c_added, "removed": self.annex_c_removed, "changed": self.annex_c_changed},
            "srv_rules": self.srv_rules,
            "modifications": self.modifications,
            "runs": self.runs,
        }


def _clause_changes(a: Clause, b: Clause) -> dict[str, dict[str, Any]]:
    changes = {}
    for name in COMPARED:
        before, after = getattr(a, name), getattr(b, name)
        if before != after:
            changes[name] = {"a": list(before) if isinstance(before, tuple) else before, "b": after}
            if isinstance(after, tuple):
                changes[name]["b"] = list(after)
    return changes


def _annex_key(d: AnnexCDefault) -> tuple[str, str, str]:
    return (d.srv, d.command, d.field)


def _annex_diff(a: Catalogue, b: Catalogue) -> tuple[list[dict[str, Any]], ...]:
    in_a = {_annex_key(d): d for d in a.annex_c}
    in_b = {_annex_key(d): d for d in b.annex_c}
    added = [asdict(in_b[k]) for k in sorted(set(in_b) - set(in_a))]
    removed = [asdict(in_a[k]) for k in sorted(set(in_a) - set(in_b))]
    changed = [
        {"a": asdict(in_a[k]), "b": asdict(in_b[k])} for k in sorted(set(in_a) & set(in_b)) if in_a[k] != in_b[k]
    ]
    return added, removed, changed


#: What makes an SRV rule "changed" for people: who may send it, what cannot answer it, whether DCC schedules it.
RULE_FIELDS = ("roles", "excluded_traits", "dcc_scheduled", "device_types")


def _rules_diff(a: Catalogue, b: Catalogue) -> list[dict[str, Any]]:
    found = []
    for srv in sorted(set(a.eligibility.srvs) | set(b.eligibility.srvs), key=clause_key):
        ra, rb = a.eligibility.rule(srv), b.eligibility.rule(srv)
        if ra is None or rb is None:
            found.append({"srv": srv, "in_a": ra is not None, "in_b": rb is not None})
            continue
        changes = {
            name: {"a": _plain(getattr(ra, name)), "b": _plain(getattr(rb, name))}
            for name in RULE_FIELDS
            if getattr(ra, name) != getattr(rb, name)
        }
        if changes:
            found.append({"srv": srv, "changes": changes, "changed_by": rb.changed_by})
    return found


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _run(scenarios: str, s1sp: str, dmcs: list[str], xsd: str | None, folder: Path) -> dict[str, Any]:
    """One ``s1sr run`` in its own process; its results.json."""
    args = [sys.executable, "-m", "s1sr", "run", "--s1sr-version", scenarios, "--s1sp-version", s1sp, "--no-archive"]
    args += ["--report-dir", str(folder)]
    for dmc in dmcs:
        args += ["--dmc", dmc]
    if xsd:
        args += ["--xsd", xsd]
    done = subprocess.run(args, capture_output=True, text=True, timeout=3600)
    if done.returncode not in (0, 1, 3) or not (folder / "results.json").is_file():
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise S1srError(f"the run of S1SR {scenarios} scenarios with the {s1sp} S1SP failed: {last}", "diff")
    results: dict[str, Any] = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    return results


def _failed(results: dict[str, Any], clause: str) -> list[str]:
    return sorted(
        f"{s['name']} [{s['dmc']}]"
        for s in results["scenarios"]
        if clause in s["clauses"] and s["outcome"] in ("failed", "error")
    )


def _applicable(results: dict[str, Any], clause: str) -> int:
    return sum(1 for s in results["scenarios"] if clause in s["clauses"] and s["outcome"] != "not applicable")


def version_diff(a: str, b: str, dmcs: list[str], xsd: str | None, work: Path | None = None) -> VersionDiff:
    """Compare S1SR versions ``a`` and ``b`` (catalogues, then four runs)."""
    if a == b:
        raise ConfigError("the two versions are the same", "diff", "name two different S1SR versions")
    cat_a, cat_b = load_catalogue(a), load_catalogue(b)
    with tempfile.TemporaryDirectory(prefix="s1sr-diff-") as temp:
        base = work or Path(temp)
        runs = {
            f"{x}-scenarios-{y}-s1sp": _run(x, y, dmcs, xsd, base / f"{x}-scenarios-{y}-s1sp")
            for x, y in ((a, a), (b, b), (b, a), (a, b))
        }
    own_a, own_b = runs[f"{a}-scenarios-{a}-s1sp"], runs[f"{b}-scenarios-{b}-s1sp"]
    a_on_b, b_on_a = runs[f"{b}-scenarios-{a}-s1sp"], runs[f"{a}-scenarios-{b}-s1sp"]
    moves = {c.former_id: c.id for c in cat_b.clauses if c.former_id and cat_a.clause(c.former_id) is not None}
    ids = [c.id for c in cat_a.clauses if c.id not in moves]
    ids += [c.id for c in cat_b.clauses if cat_a.clause(c.id) is None]
    clauses = []
    for cid in ids:
        cb = cat_b.clause(cid)
        former = cb.former_id if cb is not None and cb.former_id in moves else None
        ca = cat_a.clause(former or cid)
        known = cb or ca
        assert known is not None
        clauses.append(
            ClauseDiff(
                id=cid,
                title=known.title,
                in_a=ca is not None,
                in_b=cb is not None,
                changes={
                    k: v
                    for k, v in (_clause_changes(ca, cb) if ca and cb else {}).items()
                    if not former or k != "title"
                },
                a_fails_b=_failed(a_on_b, cid),
                b_fails_a=_failed(b_on_a, cid),
                scenarios_a=_applicable(own_a, cid),
                scenarios_b=_applicable(own_b, cid),
                moved_from=former,
            )
        )
    added, removed, changed = _annex_diff(cat_a, cat_b)
    return VersionDiff(
        a,
        b,
        own_a["dmc"],
        clauses,
        added,
        removed,
        changed,
        {name: r["summary"] for name, r in runs.items()},
        _rules_diff(cat_a, cat_b),
        {"a": [m.id for m in cat_a.modifications], "b": [m.id for m in cat_b.modifications]},
    )


def diff_markdown(diff: VersionDiff) -> str:
    """The diff for people (also written as diff.md)."""
    lines = [f"# S1SR {diff.a} → {diff.b}", "", f"Device Model Combinations: {', '.join(diff.dmc)}", ""]
    lines += ["| clause | title | status | what differs |", "| --- | --- | --- | --- |"]
    for c in diff.clauses:
        lines.append(f"| {c.id} | {c.title} | {c.status} | {what_differs(diff, c)} |")
    lines += ["", "## Annex C", ""]
    for d in diff.annex_c_added:
        lines.append(
            f"- added: SRV {d['srv']} {d['command']}.{d['field']} = {json.dumps(d['value'])} ({d['provenance']})"
        )
    for d in diff.annex_c_removed:
        lines.append(f"- removed: SRV {d['srv']} {d['command']}.{d['field']}")
    for d in diff.annex_c_changed:
        new = d["b"]
        lines.append(f"- changed: SRV {new['srv']} {new['command']}.{new['field']}: {d['a']['value']} → {new['value']}")
    if not (diff.annex_c_added or diff.annex_c_removed or diff.annex_c_changed):
        lines.append("- no change")
    lines += ["", "## Who may send what (SRV rules)", ""]
    for rule in diff.srv_rules:
        if "changes" not in rule:
            lines.append(f"- SRV {rule['srv']}: only in {diff.a if rule['in_a'] else diff.b}")
            continue
        parts = [f"{k} {json.dumps(v['a'])} → {json.dumps(v['b'])}" for k, v in rule["changes"].items()]
        lines.append(f"- SRV {rule['srv']} ({rule['changed_by']}): " + "; ".join(parts))
    if not diff.srv_rules:
        lines.append("- no change")
    lines += ["", "## Runs", ""]
    for name, summary in diff.runs.items():
        lines.append(f"- {name}: " + ", ".join(f"{v} {k}" for k, v in summary.items()))
    return "\n".join(lines) + "\n"


def what_differs(diff: VersionDiff, c: ClauseDiff) -> str:
    """One cell of text: what differs for clause ``c``."""
    parts = []
    if c.status == "added":
        parts.append(f"documented from {diff.b} ({c.scenarios_b} scenarios)")
        if not c.scenarios_b:
            parts.append("no scenario exercises it")
        elif not c.a_fails_b:
            parts.append(f"the {diff.a} S1SP already behaves so")
    if c.moved_from:
        parts.append(f"clause {c.moved_from} of {diff.a} renumbered")
    if c.status == "removed":
        parts.append(f"not in {diff.b}")
    for name, change in c.changes.items():
        parts.append(f"{name}: {json.dumps(change['a'])} → {json.dumps(change['b'])}")
    if c.a_fails_b:
        parts.append(f"the {diff.a} S1SP fails {len(c.a_fails_b)} of {diff.b}'s scenarios, e.g. {c.a_fails_b[0]}")
    if c.b_fails_a:
        parts.append(f"the {diff.b} S1SP fails {len(c.b_fails_a)} of {diff.a}'s scenarios, e.g. {c.b_fails_a[0]}")
    return "; ".join(parts) or "-"


def write_diff(diff: VersionDiff, folder: Path) -> None:
    """diff.json and diff.md into ``folder``."""
    write_atomically(folder / "diff.json", json.dumps(diff.as_dict(), indent=2).encode("utf-8"))
    write_atomically(folder / "diff.md", diff_markdown(diff).encode("utf-8"))
