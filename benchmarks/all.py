"""Every benchmark of issue 10, one after another, and one table of its goals: met or not met.

    python benchmarks/all.py [--quick] [--tests-seconds S | --tests-log FILE] [--baseline REV]
                             [--gate-version V]... [--only NAME]... [--json FILE]

Runs, each in its own process and never two at once (they time things): ``throughput.py`` (the reference
S1SP round trip), ``signing.py`` (sign + verify against a raw ECDSA sign), ``release.py`` (the default
``s1sr run`` against the release before issue 10, ``--baseline``, default 27eb755), ``gate.py`` (10 and
40 synthetic DMCs, serial and ``--workers 2``, under each ``--gate-version``, default 4.3) and ``pools.py``
(4 rigs of 200 ms against 1). Each prints its own figures as it goes, as when run alone, and writes them
for this script (its ``--json``); the goals table (``benchmarks/goals.py``) closes the output.

The project's own tests are not run here: give their wall time with ``--tests-seconds S``, or the junit
XML (``pytest --junitxml``) or console log of a ``pytest -n 2`` run with ``--tests-log FILE``; without
either that goal is "not measured here".

``--quick`` runs a small variant of each (one clause, a few DMCs and rigs, short rounds; well under a
minute): it shows that every benchmark and this table work, and its figures judge nothing. A full run
takes about 10 minutes on 2 cores; run it on a quiet machine. Exit code 0 when every benchmark ran
(whatever the goals' verdicts: timings vary with the machine and nothing here asserts on them), 1 when
one failed (its goals are "not measured"), 2 for bad usage, 130 when interrupted.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from goals import judge, table, tests_seconds_from

from s1sr.errors import S1srError

FOLDER = Path(__file__).resolve().parent
NAMES = ("throughput", "signing", "release", "gate", "pools")
QUICK_CLAUSE = "23"  # Annex C defaults: 14 scenario examples on the two default DMCs, a few requests each


@dataclass(frozen=True)
class Benchmark:
    """One benchmark script and its arguments in a full and in a quick run."""

    name: str
    full: tuple[str, ...]
    quick: tuple[str, ...]

    def command(self, quick: bool, figures: Path) -> list[str]:
        """The command line that runs it and writes its figures to ``figures``."""
        args = self.quick if quick else self.full
        return [sys.executable, str(FOLDER / f"{self.name}.py"), *args, "--json", str(figures)]


def benchmarks(baseline: str, gate_versions: list[str]) -> list[Benchmark]:
    """The benchmarks in the order they run: the short ones first."""
    versions = tuple(a for v in gate_versions for a in ("--s1sr-version", v))
    return [
        Benchmark("throughput", (), ("--seconds", "0.2")),
        Benchmark("signing", (), ("--rounds", "1", "--seconds", "0.05")),
        Benchmark(
            "release", ("--baseline", baseline), ("--baseline", baseline, "--rounds", "1", "--clause", QUICK_CLAUSE)
        ),
        Benchmark(
            "gate",
            ("--dmcs", "10", "40", "--workers", "1", "2", *versions),
            ("--dmcs", "2", "4", "--workers", "1", "2", "--clause", QUICK_CLAUSE, *versions),
        ),
        Benchmark("pools", (), ("--rigs", "2", "--latency", "0.05", "--clause", QUICK_CLAUSE)),
    ]


class OneLineParser(argparse.ArgumentParser):
    """Bad usage is one line and exit code 2, as everywhere in s1sr."""

    def error(self, message: str) -> NoReturn:
        """Print ``all.py: error: message; see --help`` and exit 2."""
        self.exit(2, f"all.py: error: {message}; see --help\n")


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: whether the machine was quiet while it was timed."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def run_one(benchmark: Benchmark, quick: bool, work: Path) -> dict[str, Any] | None:
    """Run one benchmark, its output shown as it comes; its figures, or None when it failed."""
    figures = work / f"{benchmark.name}.json"
    command = benchmark.command(quick, figures)
    print(f"\n== benchmarks/{benchmark.name}.py {' '.join(command[2:-2])}".rstrip(), flush=True)
    started = time.perf_counter()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}  # its lines reach the terminal as it prints them
    process = subprocess.Popen(command, env=env, cwd=FOLDER.parent)
    try:
        code = process.wait()
    except BaseException:  # Ctrl-C or SIGTERM: the benchmark in flight stops too (it cleans up after itself)
        process.terminate()
        process.wait(timeout=30)
        raise
    print(f"== {benchmark.name}: {time.perf_counter() - started:.0f} s, exit {code}", flush=True)
    if code != 0 or not figures.exists():
        return None
    found: dict[str, Any] = json.loads(figures.read_text(encoding="utf-8"))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = OneLineParser(prog="all.py", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small variants: checks the command works, judges nothing")
    timing = parser.add_mutually_exclusive_group()
    timing.add_argument("--tests-seconds", type=float, help="wall time of the project's tests (pytest -n 2), seconds")
    timing.add_argument("--tests-log", type=Path, help="junit XML or console log of a pytest -n 2 run")
    parser.add_argument("--baseline", default="27eb755", help="release the default run is compared with")
    parser.add_argument(
        "--gate-version", action="append", dest="gate_versions", help="S1SR version of the gate (repeatable; 4.3)"
    )
    parser.add_argument(
        "--only", action="append", choices=NAMES, help="run only this benchmark (repeatable; the others: not measured)"
    )
    parser.add_argument("--json", type=Path, help="also write every figure and the goals' verdicts to this file")
    args = parser.parse_args(argv)
    tests_seconds = args.tests_seconds
    try:  # every input is checked before anything runs
        if args.tests_log is not None:
            tests_seconds = tests_seconds_from(args.tests_log)
    except S1srError as exc:
        print(f"all.py: error: {exc.line()}", file=sys.stderr)
        return 2
    if tests_seconds is not None and not 0 < tests_seconds < 86_400:
        parser.error(f"the tests' wall time must be a positive number of seconds under a day, not {tests_seconds:g}")
    if args.json is not None and not args.json.parent.is_dir():
        parser.error(f"--json {args.json}: no folder {args.json.parent}")

    def terminated(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminated)
    print(
        f"{os.cpu_count()} cores, load average {load_average()}; Python {platform.python_version()};"
        f" schema {os.environ.get('S1SR_DUIS_XSD') or '[tool.s1sr] duis_xsd'}"
    )
    if args.quick:
        print("QUICK: small variants of every benchmark; the figures below judge nothing")
    figures: dict[str, dict[str, Any]] = {}
    failed = []
    try:
        with tempfile.TemporaryDirectory(prefix="s1sr-bench-") as temp:
            for benchmark in benchmarks(args.baseline, args.gate_versions or ["4.3"]):
                if args.only and benchmark.name not in args.only:
                    continue
                found = run_one(benchmark, args.quick, Path(temp))
                if found is None:
                    failed.append(benchmark.name)
                else:
                    figures[benchmark.name] = found
    except KeyboardInterrupt:
        print("all.py: interrupted", file=sys.stderr)
        return 130
    rows = judge(figures, tests_seconds)
    title = "Issue 10's goals" + (" (QUICK run: these figures judge nothing)" if args.quick else "")
    print(f"\n{title}\n{table(rows)}")
    print(f"load average at the end: {load_average()} (a busy machine skews every time)")
    if failed:
        print(f"failed: {', '.join(failed)} (its goals are not measured)")
    if args.json is not None:
        verdicts = [
            {"goal": r.goal.name, "target": r.goal.target(), "value": r.value, "verdict": r.verdict} for r in rows
        ]
        record = {"quick": args.quick, "tests_seconds": tests_seconds, "figures": figures, "goals": verdicts}
        args.json.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
