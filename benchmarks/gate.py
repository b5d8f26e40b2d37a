"""The regression gate at scale: N synthetic DMCs, serial and on workers, and the report it leaves.

    python benchmarks/gate.py [--dmcs 10 40] [--workers 1 2] [--s1sr-version 4.3]... [--keep DIR] [--json FILE]

Builds a catalogue folder (a copy of ``s1sr/catalogue/data``) whose ``device-models.toml`` adds N DMCs,
half copies of ``secure-esme`` and half of ``secure-gsme`` (the same device models, so the same clauses
apply), and for each N, each worker count and each S1SR version runs ``s1sr run --catalogue DIR
--no-archive --report-dir`` on all N of them. Per run it prints the wall time, the time per DMC, the
peak resident memory of the largest process (the run and, with workers, each pytest-xdist worker: each
one's ``VmHWM`` polled from /proc, else ``wait4``'s figure), the sizes of index.html and results.json,
and the time headless Chromium takes to load index.html (``S1SR_CHROMIUM``, else ``chromium`` on the
PATH, through Playwright as tests/test_browser.py does). Issue 10's goals are printed beside the
figures; nothing here asserts on them: timings vary with the machine. Each run must be CONFORMANT
(it stops otherwise, showing the run's last lines).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

Show = Callable[[str], None]
HERE = Path(__file__).resolve().parent.parent
SHIPPED_CATALOGUE = HERE / "s1sr" / "catalogue" / "data"
#: The default DMCs copied: each synthetic DMC has the meter and hub of one of them.
TEMPLATES = {"esme": ("secure-esme", "secure-chf"), "gsme": ("secure-gsme", "secure-chf")}
MIB = 1024 * 1024


@dataclass(frozen=True)
class Figures:
    """What one run of the gate measured."""

    version: str
    dmcs: int
    workers: int
    scenarios: int
    wall_s: float
    peak_rss_mib: float
    page_bytes: int
    results_bytes: int
    page_load_s: float | None

    def row(self) -> str:
        """One line of the table :func:`main` prints."""
        load = f"{self.page_load_s:8.2f}" if self.page_load_s is not None else "       -"
        return (
            f"{self.version:>7} {self.dmcs:>5} {self.workers:>7} {self.scenarios:>9} {self.wall_s:8.1f}"
            f" {1000 * self.wall_s / self.dmcs:9.0f} {self.peak_rss_mib:9.1f} {self.page_bytes / 1e6:9.2f}"
            f" {self.results_bytes / 1e6:9.2f} {load}"
        )


HEADER = (
    "version  DMCs workers scenarios   wall s  ms / DMC  peak MiB  page MB  results MB  load s\n"
    "------- ----- ------- --------- -------- --------- --------- -------- ----------- -------"
)


def synthetic_dmcs(count: int) -> list[str]:
    """The ids of ``count`` synthetic DMCs: ``gate-esme-01``, ``gate-gsme-01``, ``gate-esme-02``, ..."""
    return [f"gate-{('esme', 'gsme')[i % 2]}-{i // 2 + 1:02d}" for i in range(count)]


def build_catalogue(folder: Path, count: int) -> list[str]:
    """Copy the shipped catalogue to ``folder`` and add ``count`` synthetic DMCs to it; their ids."""
    shutil.copytree(SHIPPED_CATALOGUE, folder)
    ids = synthetic_dmcs(count)
    tables = []
    for dmc in ids:
        meter, hub = TEMPLATES[dmc.split("-")[1]]
        tables.append(f'\n[[dmc]]\nid = "{dmc}"\nmeter = "{meter}"\ncomms_hub = "{hub}"\ndefault = false\n')
    with (folder / "device-models.toml").open("a", encoding="utf-8") as models:
        models.write("".join(tables))
    return ids


def run_gate(
    catalogue: Path, dmcs: list[str], version: str, workers: int, report: Path, clauses: list[str] | None = None
) -> tuple[float, float]:
    """One ``s1sr run`` of the gate; its wall time (s) and the peak RSS (MiB) of its largest process."""
    command = [sys.executable, "-m", "s1sr", "run", "--s1sr-version", version, "--catalogue", str(catalogue),
               "--no-archive", "--report-dir", str(report)]  # fmt: skip
    for dmc in dmcs:
        command += ["--dmc", dmc]
    for clause in clauses or []:
        command += ["--clause", clause]
    if workers > 1:
        command += ["--workers", str(workers)]
    log = report.parent / f"{report.name}.log"
    with log.open("wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=HERE)
        watcher = PeakWatcher(process.pid)
        watcher.start()
        # wait4 reports this run alone: ru_maxrss is the largest of it and every descendant it reaped
        # (the xdist workers), in KiB on Linux.
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        watcher.stop()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        tail = log.read_text(errors="replace").splitlines()[-15:]
        raise SystemExit(f"gate.py: {' '.join(command[2:6])}... exited {process.returncode}:\n" + "\n".join(tail))
    # The largest process by its own high-water mark where /proc shows it (ru_maxrss can count a forked
    # child's pages shared with its parent before it execs), else wait4's figure.
    return wall, watcher.largest_mib() or usage.ru_maxrss / 1024


class PeakWatcher(threading.Thread):
    """Polls ``VmHWM`` (each process's own peak resident memory) of a process and its descendants (Linux)."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.peaks: dict[int, int] = {}
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(0.2):
            family = {self.root}
            for pid, parent, peak in _processes():
                if pid in family or parent in family:
                    family.add(pid)
                    self.peaks[pid] = max(self.peaks.get(pid, 0), peak)

    def stop(self) -> None:
        """Stop polling (after the root ended: its last figures were read while it ran)."""
        self._done.set()
        self.join()

    def largest_mib(self) -> float:
        """The largest peak seen, MiB; 0 when /proc showed none."""
        return max(self.peaks.values(), default=0) / 1024


def _processes() -> list[tuple[int, int, int]]:
    """(pid, parent pid, VmHWM in KiB) of every process /proc lists, parents before children where pids say so."""
    found = []
    for entry in sorted((e for e in os.listdir("/proc") if e.isdigit()), key=int):
        try:
            status = Path("/proc", entry, "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if "VmHWM" in fields and "PPid" in fields:
            found.append((int(entry), int(fields["PPid"].split()[0]), int(fields["VmHWM"].split()[0])))
    return found


def chromium() -> str | None:
    """The Chromium the browser tests use: ``S1SR_CHROMIUM``, else ``chromium`` on the PATH."""
    return os.environ.get("S1SR_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def page_load_seconds(pages: list[Path]) -> list[float | None]:
    """The time headless Chromium takes to load each page (its ``load`` event), one fresh tab each."""
    executable = chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        executable = None
    if executable is None:
        print("gate.py: no Chromium with Playwright; page load times are not measured", file=sys.stderr)
        return [None for _ in pages]
    flags = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
    times: list[float | None] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=flags)
        try:
            for page_path in pages:
                tab = browser.new_page(viewport={"width": 1280, "height": 900})
                started = time.perf_counter()
                tab.goto(page_path.as_uri(), wait_until="load", timeout=120_000)
                # the count is filled in once every packed row is listed: the page's own script has run
                tab.wait_for_function("document.getElementById('shown').textContent !== ''", timeout=120_000)
                times.append(time.perf_counter() - started)
                tab.close()
        finally:
            browser.close()
    return times


def say(line: str) -> None:
    """Print ``line`` at once: a gate runs for minutes, and its rows are the progress."""
    print(line, flush=True)


def measure(
    counts: list[int], worker_counts: list[int], versions: list[str], work: Path, clauses: list[str], show: Show = say
) -> list[Figures]:
    """Run the gate for every DMC count, worker count and version in ``work``; print one row per run and the goals.

    ``clauses`` (empty: every clause) narrows each run, for a quick check that the benchmark works.
    """
    show(f"{os.cpu_count()} cores; schema: {os.environ.get('S1SR_DUIS_XSD') or '[tool.s1sr] duis_xsd, if found'}")
    if clauses:
        show(f"clauses {', '.join(clauses)} only: not the gate's figures")
    show(HEADER)
    figures: list[Figures] = []
    for count in counts:
        catalogue = work / f"catalogue-{count}"
        dmcs = build_catalogue(catalogue, count)
        for version in versions:
            for workers in worker_counts:
                report = work / f"report-{version}-{count}-w{workers}"
                wall, peak = run_gate(catalogue, dmcs, version, workers, report, clauses)
                results = json.loads((report / "results.json").read_text())
                page = report / "index.html"
                (load,) = page_load_seconds([page])
                figures.append(
                    Figures(
                        version=version, dmcs=count, workers=workers, scenarios=len(results["scenarios"]),
                        wall_s=wall, peak_rss_mib=peak, page_bytes=page.stat().st_size,
                        results_bytes=(report / "results.json").stat().st_size, page_load_s=load,
                    )
                )  # fmt: skip
                show(figures[-1].row())
    show("")
    for version in versions:
        for count in counts:
            by_workers = {f.workers: f for f in figures if f.version == version and f.dmcs == count}
            if 1 in by_workers and 2 in by_workers:
                speedup = by_workers[1].wall_s / by_workers[2].wall_s
                show(f"S1SR {version}, {count} DMCs: --workers 2 is {speedup:.2f}x serial (goal: at least 1.7x)")
        serial = sorted((f for f in figures if f.version == version and f.workers == 1), key=lambda f: f.dmcs)
        if len(serial) >= 2:
            first, last = serial[0], serial[-1]
            drift = (last.wall_s / last.dmcs) / (first.wall_s / first.dmcs) - 1
            show(
                f"S1SR {version}, serial: time per DMC {first.dmcs} -> {last.dmcs} DMCs changes by {100 * drift:+.0f} %"
                " (goal: within 10 %)"
            )
    show("goals: peak memory per process at most 300 MiB; index.html at most 10 MB; page loaded in under 3 s")
    return figures


def main(argv: list[str] | None = None) -> int:
    """Run the gate for every DMC count, worker count and version given; print one row per run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dmcs", type=int, nargs="+", default=[10, 40], help="DMC counts (default 10 40)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts (default 1 2)")
    parser.add_argument("--s1sr-version", action="append", dest="versions", help="S1SR version (default 4.3)")
    parser.add_argument("--clause", action="append", default=[], help="run only this clause (repeatable; quick)")
    parser.add_argument("--keep", type=Path, help="keep the catalogues and reports in this (new) folder")
    parser.add_argument("--json", type=Path, help="also write the figures to this file (for benchmarks/all.py)")
    args = parser.parse_args(argv)
    versions = args.versions or ["4.3"]
    with ExitStack() as cleanup:
        if args.keep is not None:
            args.keep.mkdir(parents=True)
            work = args.keep
        else:
            work = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="s1sr-gate-")))
        figures = measure(args.dmcs, args.workers, versions, work, args.clause)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"(this script's own peak, with Chromium's driver: {own:.0f} MiB; not part of the figures)")
    if args.json is not None:
        runs = [dataclasses.asdict(f) for f in figures]
        args.json.write_text(json.dumps({"runs": runs}, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
