"""Issue 10's goals, judged from the figures the benchmarks of this folder measure.

Pure: nothing here runs or times anything. ``benchmarks/all.py`` gathers each benchmark's figures (the dict
its ``--json FILE`` writes) and calls :func:`judge` and :func:`table`; ``tests/test_benchmarks.py`` checks
the judging at its boundaries.

A figure is judged as it is printed, rounded to the places the table shows, so the table never shows
``4.00x`` beside "not met" for a bound of 4: exactly the bound is met, one step past it is not.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from s1sr.duis.safe_xml import parse_xml
from s1sr.errors import InputError

MET, NOT_MET, NOT_MEASURED = "met", "not met", "not measured"

#: Today's wall time of the project's own tests (issue 10: 145-196 s); the goal is half of the fastest.
TESTS_TODAY_S = 145.0
#: A junit file of the whole suite is well under this; a bigger one is not what we were given.
JUNIT_MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Goal:
    """One goal of issue 10: a figure, the bound it must reach and the benchmark that measures it."""

    name: str
    bound: float
    sense: Literal["at least", "at most", "within"]
    unit: str
    places: int
    source: str

    def shown(self, value: float) -> str:
        """``value`` as the table prints it: rounded to :attr:`places`, with the unit (and a sign when within)."""
        sign = "+" if self.sense == "within" and value >= 0 else ""
        return f"{sign}{value:,.{self.places}f}{self.unit}"

    def target(self) -> str:
        """The bound in words, e.g. ``at most 4.00x`` or ``within ±10 %``."""
        bound = f"{self.bound:,.{self.places}f}{self.unit}"
        return f"within ±{bound}" if self.sense == "within" else f"{self.sense} {bound}"

    def verdict(self, value: float | None) -> str:
        """``met``, ``not met`` or ``not measured``; ``value`` is judged rounded as it is printed."""
        if value is None:
            return NOT_MEASURED
        printed = round(value, self.places)
        if self.sense == "at least":
            reached = printed >= self.bound
        elif self.sense == "at most":
            reached = printed <= self.bound
        else:
            reached = abs(printed) <= self.bound
        return MET if reached else NOT_MET


GOALS: dict[str, Goal] = {
    goal.name: goal
    for goal in (
        Goal("S1SP round trip with User-side verify, one core", 3000, "at least", " requests/s", 0, "throughput"),
        Goal("(sign + verify) / raw ECDSA sign", 4.0, "at most", "x", 2, "signing"),
        Goal("default s1sr run, current / baseline, per request", 0.5, "at most", "x", 2, "release"),
        Goal("gate: --workers 2 speed-up over serial", 1.7, "at least", "x", 2, "gate"),
        Goal("gate: peak memory of any one process", 300, "at most", " MiB", 0, "gate"),
        Goal("gate: index.html size", 10.0, "at most", " MB", 1, "gate"),
        Goal("gate: time per DMC, smallest to largest count", 10, "within", " %", 0, "gate"),
        Goal("gate: index.html loaded in headless Chromium", 3.0, "at most", " s", 2, "gate"),
        Goal("lab-rig pool speed-up, 4 rigs over 1", 3.0, "at least", "x", 2, "pools"),
        Goal("project's own tests (pytest, parallel)", TESTS_TODAY_S / 2, "at most", " s", 1, "tests"),
    )
}


@dataclass(frozen=True)
class Judged:
    """One row of the goals table."""

    goal: Goal
    value: float | None
    note: str

    @property
    def verdict(self) -> str:
        """The goal's verdict on :attr:`value`."""
        return self.goal.verdict(self.value)

    @property
    def measured(self) -> str:
        """The figure as printed, or why there is none."""
        return self.goal.shown(self.value) if self.value is not None else NOT_MEASURED


def _gate_figures(gate: Mapping[str, Any]) -> dict[str, tuple[float | None, str]]:
    """The gate's goal figures from ``gate.py``'s figures: the largest DMC count, every version."""
    runs = list(gate.get("runs", []))
    if not runs:
        return {}
    largest = max(r["dmcs"] for r in runs)
    found: dict[str, tuple[float | None, str]] = {}
    speedups = []
    for version in sorted({r["version"] for r in runs}):
        by_workers = {r["workers"]: r for r in runs if r["version"] == version and r["dmcs"] == largest}
        if 1 in by_workers and 2 in by_workers:
            speedups.append((by_workers[1]["wall_s"] / by_workers[2]["wall_s"], version))
    if speedups:
        worst, version = min(speedups)
        found["gate: --workers 2 speed-up over serial"] = (worst, f"{largest} DMCs, S1SR {version}")
    heaviest = max(runs, key=lambda r: r["peak_rss_mib"])
    found["gate: peak memory of any one process"] = (
        heaviest["peak_rss_mib"],
        f"{heaviest['dmcs']} DMCs, workers {heaviest['workers']}",
    )
    biggest = max(runs, key=lambda r: r["page_bytes"])
    found["gate: index.html size"] = (biggest["page_bytes"] / 1e6, f"{biggest['dmcs']} DMCs")
    serial = sorted((r for r in runs if r["workers"] == 1), key=lambda r: r["dmcs"])
    if len({r["dmcs"] for r in serial}) >= 2:
        drifts = []
        for version in sorted({r["version"] for r in serial}):
            mine = [r for r in serial if r["version"] == version]
            first, last = mine[0], mine[-1]
            if first["dmcs"] != last["dmcs"]:
                drift = 100 * ((last["wall_s"] / last["dmcs"]) / (first["wall_s"] / first["dmcs"]) - 1)
                drifts.append((abs(drift), drift, f"serial, {first['dmcs']} -> {last['dmcs']} DMCs, S1SR {version}"))
        if drifts:
            _, signed, note = max(drifts)
            found["gate: time per DMC, smallest to largest count"] = (signed, note)
    loads = [r for r in runs if r.get("page_load_s") is not None]
    if loads:
        slowest = max(loads, key=lambda r: r["page_load_s"])
        found["gate: index.html loaded in headless Chromium"] = (
            slowest["page_load_s"],
            f"{slowest['dmcs']} DMCs, slowest of {len(loads)} pages",
        )
    return found


def judge(figures: Mapping[str, Mapping[str, Any]], tests_seconds: float | None) -> list[Judged]:
    """Every goal judged from the benchmarks' figures (keyed by benchmark name) and the tests' wall time.

    A benchmark missing from ``figures`` (not run, or it failed) leaves its goals ``not measured``.
    """
    values: dict[str, tuple[float | None, str]] = {}
    if "throughput" in figures:
        rate = figures["throughput"]["s1sp_verified_requests_per_s"]
        values["S1SP round trip with User-side verify, one core"] = (rate, "benchmarks/throughput.py")
    if "signing" in figures:
        signing = figures["signing"]
        values["(sign + verify) / raw ECDSA sign"] = (signing["ratio"], f"{signing['responses']} SMETS1 Responses")
    if "release" in figures:
        release = figures["release"]
        values["default s1sr run, current / baseline, per request"] = (
            release["ratio_per_request"],
            f"total wall {release['ratio_total']:.2f}x, against {release['baseline']['label']}",
        )
    if "gate" in figures:
        values.update(_gate_figures(figures["gate"]))
    if "pools" in figures:
        pools = figures["pools"]
        values["lab-rig pool speed-up, 4 rigs over 1"] = (pools["speedup"], f"{pools['rigs']} rigs")
    if tests_seconds is not None:
        values["project's own tests (pytest, parallel)"] = (
            tests_seconds,
            f"given; half of today's fastest, {TESTS_TODAY_S:.0f} s (of 145-196 s)",
        )
    rows = []
    for name, goal in GOALS.items():
        value, note = values.get(name, (None, f"benchmarks/{goal.source}.py not run"))
        if goal.source == "tests" and value is None:
            note = "not measured here: pass --tests-seconds S or --tests-log FILE"
        rows.append(Judged(goal, value, note))
    return rows


def table(rows: list[Judged]) -> str:
    """The goals table: goal, target, figure measured, verdict, and where the figure comes from."""
    header = ("goal", "target", "measured", "verdict", "how")
    lines = [(r.goal.name, r.goal.target(), r.measured, r.verdict, r.note) for r in rows]
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(4)]

    def row(cells: tuple[str, ...]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=False)) + "  " + cells[4]

    return "\n".join([row(header), row((*("-" * w for w in widths), "-" * 3)), *map(row, lines)])


#: pytest's closing line, ``=== 912 passed, 3 skipped in 81.23s (0:01:21) ===``.
#: pytest's closing line: ``=== 912 passed in 76.50s (0:01:16) ===``, or under ``-q`` without the rules.
_PYTEST_SUMMARY = re.compile(
    r"^(?:=+ )?\d+ (?:passed|failed|skipped|error|errors|deselected|xfailed|xpassed)\b.* in (\d+(?:\.\d+)?)s"
    r"(?: \([0-9:]+\))?(?: =+)?$",
    re.MULTILINE,
)


def tests_seconds_from(path: Path) -> float:
    """The wall time of a pytest session from its junit XML (``--junitxml``) or its console log.

    junit: the ``time`` of the ``testsuite`` (with pytest-xdist, the session's wall time, not a sum over
    workers). Log: the time on pytest's closing ``=== ... in N.NNs ===`` line (the last one; ``-q`` drops the
    rules).
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the tests' timing: {exc.strerror}", str(path)) from None
    if data.lstrip().startswith(b"<"):
        root = parse_xml(data, str(path), max_bytes=JUNIT_MAX_BYTES)
        suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
        times = [s.get("time") for s in suites]
        if not suites or any(t is None for t in times):
            raise InputError("no <testsuite time=...> in this junit file", str(path), "pass pytest's --junitxml file")
        try:
            return max(float(t) for t in times if t is not None)
        except ValueError:
            raise InputError("a <testsuite> time is not a number", str(path)) from None
    found = _PYTEST_SUMMARY.findall(data.decode("utf-8", errors="replace"))
    if not found:
        raise InputError(
            "no pytest closing line ('=== ... in N.NNs ===') in this log", str(path), "pass pytest's console output"
        )
    return float(found[-1])
