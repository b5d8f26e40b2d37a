"""``s1sr diff A B``: what changes between two S1SR versions, in the catalogue and in behaviour.

Four runs of the clause scenarios against the reference S1SP give the evidence:
each version's S1SP on its own scenarios (is each version self-consistent?) and each
version's S1SP on the other's scenarios (which documented behaviours would a
re-designation change?). Runs are separate processes, so nothing of one leaks into
another. While each runs, the lines it appends to its journal tell a :class:`DiffProgress`
how far it is (:class:`JournalFollower`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol

from s1sr.catalogue import AnnexCDefault, Catalogue, Clause, clause_key, load_catalogue
from s1sr.errors import ConfigError, S1srError
from s1sr.report.files import write_atomically
from s1sr.report.journal import MAX_LINE_BYTES, journal_beside

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


#: Seconds between two looks at a running run's journal.
POLL_S = 0.2
#: Longest one of the four runs may take.
RUN_TIMEOUT_S = 3600.0
#: Most bytes read from a journal at one look (a line may hold firmware images: it is read over several).
READ_CHUNK = 4 * 1024 * 1024


@dataclass
class RunProgress:
    """How one of the diff's runs is going: what it runs, and what its journal says so far."""

    number: int
    of: int
    #: The version whose scenarios run, and the version whose S1SP answers them.
    scenarios: str
    s1sp: str
    #: Scenario examples selected (None until the run has collected them).
    selected: int | None = None
    finished: int = 0
    #: Finished scenario examples by outcome.
    outcomes: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    #: Once the run has ended: its verdict, its summary (results.json) and how long it took.
    verdict: str | None = None
    summary: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def label(self) -> str:
        """``run 2 of 4: S1SR 4.3 scenarios on the 4.2 S1SP``."""
        return f"run {self.number} of {self.of}: S1SR {self.scenarios} scenarios on the {self.s1sp} S1SP"

    def tally(self) -> str:
        """The failures and errors so far: ``1 failed, 2 error`` (empty when none)."""
        return ", ".join(f"{self.outcomes[o]} {o}" for o in ("failed", "error") if self.outcomes.get(o))

    def counts(self) -> str:
        """The run's summary without its zeros: ``38 passed, 2 not applicable``."""
        return ", ".join(f"{n} {outcome}" for outcome, n in self.summary.items() if n) or "no scenario"


class DiffProgress(Protocol):
    """What :func:`version_diff` tells as its runs go (``s1sr diff`` shows it on stderr)."""

    def run_started(self, run: RunProgress) -> None:
        """The run has been started (nothing of its journal read yet)."""

    def run_advanced(self, run: RunProgress) -> None:
        """The run's journal said something new: its selection, or scenarios finished."""

    def run_finished(self, run: RunProgress) -> None:
        """The run ended with a record: :attr:`RunProgress.verdict` and :attr:`RunProgress.summary` are set."""


class JournalFollower:
    """Reads, as they are appended, the lines of a running ``s1sr run``'s journal into a :class:`RunProgress`.

    Only whole lines count; a line is read over as many looks as it takes, and one longer than a journal's
    longest line is skipped, not held.
    """

    def __init__(self, path: Path, run: RunProgress) -> None:
        self.path = path
        self.run = run
        self._offset = 0
        self._partial = bytearray()
        self._skipping = False

    def poll(self) -> bool:
        """Read what was appended since the last look; whether the run's progress changed."""
        try:
            with self.path.open("rb") as handle:
                handle.seek(self._offset)
                data = handle.read(READ_CHUNK)
        except OSError:  # not created yet
            return False
        self._offset += len(data)
        changed = False
        *lines, rest = (bytes(self._partial) + data).split(b"\n")
        if lines:
            changed = self._take(lines[0], skip=self._skipping)
            self._skipping = False
            for line in lines[1:]:
                changed = self._take(line) or changed
        self._partial = bytearray(rest)
        if len(self._partial) > MAX_LINE_BYTES:  # not a journal line: drop it up to its end
            self._partial.clear()
            self._skipping = True
        return changed

    def _take(self, raw: bytes, skip: bool = False) -> bool:
        if skip or not raw.strip():
            return False
        try:
            line = json.loads(raw)
        except ValueError:  # the torn line of a process killed while writing it
            return False
        if not isinstance(line, dict):
            return False
        kind = line.get("kind")
        if kind == "selected" and isinstance(line.get("scenarios"), list):
            self.run.selected = len(line["scenarios"])
        elif kind in ("scenario", "crashed"):
            outcome = str(line.get("outcome", "error"))  # a crashed worker's scenario is an error
            self.run.finished += 1
            self.run.outcomes[outcome] = self.run.outcomes.get(outcome, 0) + 1
        else:
            return False
        return True


def _run(
    run: RunProgress,
    dmcs: list[str],
    xsd: str | None,
    folder: Path,
    journal: Path,
    progress: DiffProgress | None = None,
) -> dict[str, Any]:
    """One ``s1sr run`` in its own process, its journal followed as it goes; its results.json."""
    scenarios, s1sp = run.scenarios, run.s1sp
    args = [sys.executable, "-m", "s1sr", "run", "--s1sr-version", scenarios, "--s1sp-version", s1sp, "--no-archive"]
    args += ["--report-dir", str(folder), "--journal", str(journal)]
    for dmc in dmcs:
        args += ["--dmc", dmc]
    if xsd:
        args += ["--xsd", xsd]
    follower = JournalFollower(journal, run)
    if progress is not None:
        progress.run_started(run)
    with tempfile.TemporaryFile() as output, tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=output, stderr=errors)
        code = _follow(process, follower, progress)
        if code not in (0, 1, 3) or not (folder / "results.json").is_file():
            last = (_tail(errors).strip().splitlines() or ["(no message)"])[-1]
            raise S1srError(f"the run of S1SR {scenarios} scenarios with the {s1sp} S1SP failed: {last}", "diff")
    results: dict[str, Any] = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    run.verdict, run.summary = str(results.get("verdict")), dict(results.get("summary") or {})
    run.seconds = time.monotonic() - run.started
    if progress is not None:
        progress.run_finished(run)
    return results


def _follow(process: subprocess.Popen[bytes], follower: JournalFollower, progress: DiffProgress | None) -> int:
    """Wait for ``process``, telling ``progress`` what its journal says; its exit code. Killed on any exception."""
    deadline = time.monotonic() + RUN_TIMEOUT_S
    try:
        while True:
            try:
                code = process.wait(timeout=POLL_S)
            except subprocess.TimeoutExpired:
                if time.monotonic() > deadline:
                    raise S1srError(
                        f"{follower.run.label} took longer than {RUN_TIMEOUT_S:.0f} s; it was stopped", "diff"
                    ) from None
                if follower.poll() and progress is not None:
                    progress.run_advanced(follower.run)
                continue
            if follower.poll() and progress is not None:  # the last lines
                progress.run_advanced(follower.run)
            return code
    except BaseException:
        process.kill()
        process.wait()
        raise


def _tail(handle: IO[bytes], size: int = 8192) -> str:
    """The last ``size`` bytes written to ``handle``, as text."""
    handle.seek(0, 2)
    handle.seek(max(0, handle.tell() - size))
    return handle.read().decode("utf-8", "replace")


def _failed(results: dict[str, Any], clause: str) -> list[str]:
    return sorted(
        f"{s['name']} [{s['dmc']}]"
        for s in results["scenarios"]
        if clause in s["clauses"] and s["outcome"] in ("failed", "error")
    )


def _applicable(results: dict[str, Any], clause: str) -> int:
    return sum(1 for s in results["scenarios"] if clause in s["clauses"] and s["outcome"] != "not applicable")


def version_diff(
    a: str,
    b: str,
    dmcs: list[str],
    xsd: str | None,
    work: Path | None = None,
    progress: DiffProgress | None = None,
) -> VersionDiff:
    """Compare S1SR versions ``a`` and ``b`` (catalogues, then four runs, each told to ``progress``)."""
    if a == b:
        raise ConfigError("the two versions are the same", "diff", "name two different S1SR versions")
    cat_a, cat_b = load_catalogue(a), load_catalogue(b)
    pairs = ((a, a), (b, b), (b, a), (a, b))
    with tempfile.TemporaryDirectory(prefix="s1sr-diff-") as temp:
        base = work or Path(temp)
        runs = {}
        for number, (x, y) in enumerate(pairs, 1):
            name = f"{x}-scenarios-{y}-s1sp"
            run = RunProgress(number, len(pairs), x, y)
            journal = Path(temp) / f"{name}.jsonl"  # a new file: what the follower reads is this run's only
            runs[name] = _run(run, dmcs, xsd, base / name, journal, progress)
            if work is not None:  # kept where a run into base / name keeps it
                shutil.move(journal, journal_beside(base / name))
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
