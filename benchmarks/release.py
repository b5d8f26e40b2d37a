"""The default ``s1sr run`` of this checkout against a previous release's, side by side in one benchmark run.

    python benchmarks/release.py [--baseline REV] [--rounds N] [--clause ID]... [--xsd PATH] [--json FILE]

Checks the baseline commit out into a temporary git worktree (``git worktree add --detach``; removed at the
end, also after an error, Ctrl-C or SIGTERM) and runs both releases' default ``s1sr run`` (the two default
DMCs, the official DUIS schema, ``--no-archive`` where the release has an archive) with this Python,
alternating baseline and current for ``--rounds`` rounds after one untimed warm-up of each. Each release runs
with ``PYTHONPATH`` set to its own tree, which comes before the editable install's path entry (``.pth``) in
``sys.path``; before anything is timed, each release's ``s1sr``, ``s1sr.plugin`` and ``s1sr.runner`` are
imported the same way and must come from its tree (it stops otherwise). Both share one fresh bytecode cache
(``PYTHONPYCACHEPREFIX``) that the warm-ups fill, so neither run compiles and neither tree is written to.

Per release it prints the median wall time, the median CPU time and the peak RSS (both from ``wait4``), the
scenario examples run and the requests made (the run's closing lines), and the time per scenario example and
per request; then current / baseline of each (CPU time too: steadier than wall time on a busy machine). The
suites differ in size (the current one has more scenarios), so issue 10's goal, "at most half of today's wall
time", is judged per request: the work a request costs, whatever the suite's size. Both runs must be
CONFORMANT with every request and response validated (it stops otherwise).

The default baseline, 27eb755, is the release before issue 10's work (fd49289 "Signatures ... fast" and
4fa8da1 "The run as a journal" follow it), the issue's "today": a default run of 2.99 s, "about 2.9 ms per
request on top of ~0.5 s fixed"; its run makes 914 requests (240 scenario examples): 0.5 s + 914 x 2.7 ms.
Timings vary with the machine; nothing here asserts on them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from s1sr.duis.schema import find_schema

Show = Callable[[str], None]
HERE = Path(__file__).resolve().parent.parent
BASELINE = "27eb755"
GOAL = 0.5
#: ``310 passed, 0 failed, 0 error, 94 not applicable, 0 not run`` (and any outcome a release adds).
COUNTS = re.compile(r"^(\d+ [a-z ]+(?:, \d+ [a-z ]+)+)$", re.MULTILINE)
SCHEMA = re.compile(r"^schema: (\d+) requests and (\d+) responses validated, (\d+) invalid \((.*)\)$", re.MULTILINE)
#: The modules that make up a run: each must be imported from the release's own tree.
OWN_MODULES = ("s1sr", "s1sr.plugin", "s1sr.runner")


class BenchmarkError(Exception):
    """The benchmark cannot go on: one line saying why."""


@dataclass(frozen=True)
class Release:
    """One side of the comparison: a tree of s1sr sources and how to run it."""

    label: str
    commit: str
    tree: Path
    run_args: tuple[str, ...]


@dataclass(frozen=True)
class Measured:
    """A release's figures over its timed rounds."""

    label: str
    commit: str
    scenarios: int
    requests: int
    walls_s: list[float]
    cpus_s: list[float]
    peak_rss_mib: float

    @property
    def wall_s(self) -> float:
        """The median wall time of the rounds."""
        return statistics.median(self.walls_s)

    @property
    def cpu_s(self) -> float:
        """The median CPU time (user + system) of the rounds: steadier than wall time on a shared machine."""
        return statistics.median(self.cpus_s)

    @property
    def ms_per_scenario(self) -> float:
        """Median wall time per scenario example, in milliseconds."""
        return 1000 * self.wall_s / self.scenarios

    @property
    def ms_per_request(self) -> float:
        """Median wall time per request made, in milliseconds."""
        return 1000 * self.wall_s / self.requests

    def as_dict(self) -> dict[str, Any]:
        """The figures for ``--json``, derived ones included."""
        return {
            **asdict(self),
            "wall_s": self.wall_s,
            "cpu_s": self.cpu_s,
            "ms_per_scenario": self.ms_per_scenario,
            "ms_per_request": self.ms_per_request,
        }


@dataclass(frozen=True)
class Outcome:
    """What one ``s1sr run`` did: wall and CPU time, peak RSS, scenario examples and requests."""

    wall_s: float
    cpu_s: float
    peak_rss_mib: float
    scenarios: int
    requests: int
    schema: str


def read_output(text: str) -> tuple[int, int, str]:
    """Scenario examples run, requests made and the schema named, from a run's closing lines."""
    counts = COUNTS.findall(text)
    schema = SCHEMA.findall(text)
    if not counts or not schema:
        raise BenchmarkError("the run's closing lines (counts, schema) were not found in its output")
    scenarios = sum(int(part.split(" ", 1)[0]) for part in counts[-1].split(", "))
    requests, _responses, invalid, path = schema[-1]
    if int(invalid):
        raise BenchmarkError(f"{invalid} documents of the run were invalid against the schema")
    return scenarios, int(requests), path


def git(*args: str) -> str:
    """Run git in this checkout; its output, stripped."""
    done = subprocess.run(["git", *args], cwd=HERE, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise BenchmarkError(f"git {' '.join(args)}: {done.stderr.strip() or done.returncode}")
    return done.stdout.strip()


def resolve(revision: str) -> str:
    """The full commit id of ``revision``; a one-line error when git does not know it."""
    try:
        return git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    except BenchmarkError:
        raise BenchmarkError(f"--baseline {revision}: not a commit of this repository") from None


@contextmanager
def worktree(commit: str) -> Iterator[Path]:
    """A detached worktree of ``commit`` in a temporary folder; removed on exit, whatever happened."""
    folder = Path(tempfile.mkdtemp(prefix="s1sr-release-"))
    tree = folder / "tree"
    try:
        git("worktree", "add", "--detach", str(tree), commit)
        yield tree
    finally:
        if tree.exists():
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=HERE, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=HERE, capture_output=True)


def environment(tree: Path, xsd: Path, cache: Path) -> dict[str, str]:
    """The environment a release runs in: its own tree first on the path, the schema, a shared bytecode cache."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("S1SR_") and k != "PYTHONDONTWRITEBYTECODE"}
    env.update(
        PYTHONPATH=str(tree),
        PYTHONPYCACHEPREFIX=str(cache),
        S1SR_DUIS_XSD=str(xsd),
        NO_COLOR="1",  # the same plain output from both releases, whatever the terminal
    )
    return env


def check_imports(release: Release, env: dict[str, str], scratch: Path) -> None:
    """Stop unless the release's modules are imported from its own tree."""
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    print(importlib.import_module(name).__file__)"
    done = subprocess.run(
        [sys.executable, "-c", code, *OWN_MODULES], env=env, cwd=scratch, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise BenchmarkError(f"{release.label}: importing s1sr failed: {last}")
    for name, path in zip(OWN_MODULES, done.stdout.split(), strict=False):
        if not Path(path).resolve().is_relative_to(release.tree.resolve()):
            raise BenchmarkError(f"{release.label}: {name} is imported from {path}, not from {release.tree}")


def has_option(release: Release, env: dict[str, str], scratch: Path, option: str) -> bool:
    """Whether the release's ``s1sr run`` knows ``option`` (older releases have no archive to turn off)."""
    done = subprocess.run(
        [sys.executable, "-m", "s1sr", "run", "--help"],
        env=env,
        cwd=scratch,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return option in done.stdout


class Runner:
    """Runs releases one at a time, so that SIGTERM or Ctrl-C can stop the one in flight before cleaning up."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None

    def run(self, release: Release, env: dict[str, str], scratch: Path) -> Outcome:
        """One ``s1sr run`` of ``release``: timed from start to exit, its peak RSS from ``wait4``."""
        command = [sys.executable, "-m", "s1sr", "run", *release.run_args]
        log = scratch / "run.log"
        with log.open("wb") as out:
            started = time.perf_counter()
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=scratch)
            try:
                _, status, usage = os.wait4(self.process.pid, 0)
            except BaseException:  # Ctrl-C or SIGTERM: stop the run before its tree is removed
                self.stop()
                raise
            wall = time.perf_counter() - started
            self.process.returncode = code = os.waitstatus_to_exitcode(status)
            self.process = None
        text = log.read_text(errors="replace")
        if code != 0:
            tail = " | ".join(text.strip().splitlines()[-3:])
            raise BenchmarkError(f"{release.label}: s1sr run exited {code}, not 0 (CONFORMANT): {tail}")
        scenarios, requests, schema = read_output(text)
        cpu = usage.ru_utime + usage.ru_stime
        return Outcome(wall, cpu, usage.ru_maxrss / 1024, scenarios, requests, schema)

    def stop(self) -> None:
        """Stop the run in flight, if any."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def compare(
    baseline: str, rounds: int, clauses: list[str], xsd: Path, runner: Runner, show: Show = print
) -> dict[str, Any]:
    """Measure the baseline commit's run and this checkout's, alternating; print and return the figures.

    The figures: ``baseline`` and ``current`` (:meth:`Measured.as_dict`, with ``label``), ``ratio_total``,
    ``ratio_per_scenario`` and ``ratio_per_request`` (current / baseline), ``rounds``, ``clauses``, ``schema``.
    """
    commit = resolve(baseline)
    head = git("rev-parse", "--short", "HEAD")
    dirty = "+changes" if git("status", "--porcelain", "--untracked-files=no") else ""
    with worktree(commit) as tree, tempfile.TemporaryDirectory(prefix="s1sr-release-run-") as temp:
        scratch, cache = Path(temp) / "cwd", Path(temp) / "pycache"
        scratch.mkdir()
        args = tuple(a for clause in clauses for a in ("--clause", clause))
        releases = [
            Release(f"{baseline} (baseline)", commit, tree, args),
            Release(f"{head}{dirty} (current)", git("rev-parse", "HEAD"), HERE, args),
        ]
        envs = [environment(r.tree, xsd, cache) for r in releases]
        for i, release in enumerate(releases):
            check_imports(release, envs[i], scratch)
            if has_option(release, envs[i], scratch, "--no-archive"):
                releases[i] = Release(release.label, release.commit, release.tree, ("--no-archive", *release.run_args))
        show(
            f"default s1sr run{' of clause ' + ', '.join(clauses) if clauses else ''}: {releases[0].label} against"
            f" {releases[1].label}; one warm-up each, then {rounds} round{'s' if rounds > 1 else ''} alternating"
        )
        outcomes: list[list[Outcome]] = [[], []]
        for i, release in enumerate(releases):
            warm = runner.run(release, envs[i], scratch)
            show(f"  warm-up {release.label}: {warm.wall_s:.2f} s")
        for n in range(rounds):
            for i, release in enumerate(releases):
                outcomes[i].append(runner.run(release, envs[i], scratch))
            show(f"  round {n + 1}: " + ", ".join(f"{o[-1].wall_s:.2f} s" for o in outcomes))
    measured = []
    for release, mine in zip(releases, outcomes, strict=True):
        if len({(o.scenarios, o.requests) for o in mine}) != 1:
            raise BenchmarkError(f"{release.label}: the rounds ran different numbers of scenarios or requests")
        measured.append(
            Measured(
                release.label, release.commit, mine[0].scenarios, mine[0].requests,
                [o.wall_s for o in mine], [o.cpu_s for o in mine], max(o.peak_rss_mib for o in mine),
            )
        )  # fmt: skip
    schemas = {o.schema for mine in outcomes for o in mine}
    old, new = measured
    ratios = {
        "ratio_total": new.wall_s / old.wall_s,
        "ratio_per_scenario": new.ms_per_scenario / old.ms_per_scenario,
        "ratio_per_request": new.ms_per_request / old.ms_per_request,
        "ratio_cpu_per_request": (new.cpu_s / new.requests) / (old.cpu_s / old.requests),
    }
    show(f"schema: {', '.join(sorted(schemas))}")
    width = max(len(m.label) for m in measured)
    heads = ("scenarios", "requests", "median s", "CPU s", "peak MiB", "ms/scenario", "ms/request")
    show(f"{'':<{width}} " + " ".join(f"{h:>{w}}" for h, w in zip(heads, (9, 8, 9, 6, 9, 11, 10), strict=True)))
    for m in measured:
        show(
            f"{m.label:<{width}} {m.scenarios:>9,} {m.requests:>8,} {m.wall_s:>9.2f} {m.cpu_s:>6.2f}"
            f" {m.peak_rss_mib:>9.1f} {m.ms_per_scenario:>11.2f} {m.ms_per_request:>10.3f}"
        )
    show(
        f"current / baseline: total {ratios['ratio_total']:.2f}x, per scenario {ratios['ratio_per_scenario']:.2f}x,"
        f" per request {ratios['ratio_per_request']:.2f}x (CPU time per request {ratios['ratio_cpu_per_request']:.2f}x)"
    )
    verdict = "met" if round(ratios["ratio_per_request"], 2) <= GOAL else "not met"  # as benchmarks/goals.py
    show(
        f"goal (issue 10): at most {GOAL:.2f}x the baseline's time, judged per request (the suites differ in size):"
        f" {verdict}, {ratios['ratio_per_request']:.2f}x"
    )
    return {
        "baseline": old.as_dict(), "current": new.as_dict(), **ratios,
        "rounds": rounds, "clauses": clauses, "schema": sorted(schemas),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=BASELINE, help=f"commit or tag to compare with (default {BASELINE})")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds of each, alternating (default 3)")
    parser.add_argument("--clause", action="append", default=[], help="run only this clause (repeatable; quick)")
    parser.add_argument("--xsd", default=None, help="DUIS schema (else S1SR_DUIS_XSD, else [tool.s1sr] duis_xsd)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file (for benchmarks/all.py)")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    setting = find_schema(args.xsd, HERE)
    if setting.path is None:
        print("release.py: error: no DUIS schema; pass --xsd PATH or set S1SR_DUIS_XSD", file=sys.stderr)
        return 2
    runner = Runner()

    def terminated(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt  # unwinds through the worktree's clean-up, like Ctrl-C

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        figures = compare(args.baseline, args.rounds, args.clause, Path(setting.path).resolve(), runner)
    except BenchmarkError as exc:
        print(f"release.py: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("release.py: interrupted; the worktree is removed", file=sys.stderr)
        return 130
    finally:
        runner.stop()
        signal.signal(signal.SIGTERM, previous)
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
