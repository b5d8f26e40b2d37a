"""``s1sr diff`` and ``s1sr consultation``: what changes between versions, and the pack for an analyst."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console

from s1sr.catalogue import DEFAULT_VERSION, load_catalogue
from s1sr.cli.app import err, main, out
from s1sr.errors import ConfigError, InputError

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from s1sr.diff import RunProgress


class DiffProgressView:
    """The progress of ``s1sr diff``'s four runs, on stderr (never mixed into the ``--json`` on stdout).

    On a terminal, a live bar per run (scenarios finished of selected, failures and errors so far). On a log,
    plain lines: each run's scenario count once it has collected them, a line every ``every_s`` seconds while
    it goes, and at its end its verdict and counts, which a terminal keeps too.
    """

    def __init__(self, console: Console, every_s: float = 10.0) -> None:
        self.console = console
        self.every_s = every_s
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._told_selection = False
        self._last = 0.0

    def run_started(self, run: RunProgress) -> None:
        """Show the run (a bar on a terminal; on a log its first line waits for its scenario count)."""
        self._told_selection, self._last = False, time.monotonic()
        if self.console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[tally]}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(run.label, total=None, tally="")

    def run_advanced(self, run: RunProgress) -> None:
        """Move the bar; on a log, say the scenario count once, then how far it is every ``every_s`` seconds."""
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, total=run.selected, completed=run.finished, tally=run.tally())
            return
        if run.selected is not None and not self._told_selection:
            self._told_selection, self._last = True, time.monotonic()
            self._say(f"{run.label}: {run.selected} scenarios selected")
        elif run.selected is not None and time.monotonic() - self._last >= self.every_s:
            self._last = time.monotonic()
            tally = f" ({run.tally()})" if run.tally() else ""
            self._say(f"{run.label}: {run.finished} of {run.selected} finished{tally}")

    def run_finished(self, run: RunProgress) -> None:
        """The run's verdict, counts and time, as a line that stays."""
        self.close()
        self._say(f"{run.label}: {run.verdict} in {run.seconds:.1f} s ({run.counts()})")

    def close(self) -> None:
        """Take the live bar away (at a run's end, or when the diff stops). Idempotent."""
        if self._progress is not None:
            self._progress.stop()
        self._progress, self._task = None, None

    def _say(self, line: str) -> None:
        self.console.print(line, markup=False)


@main.command()
@click.argument("a")
@click.argument("b")
@click.option("--dmc", "dmcs", multiple=True, help="Device Model Combination (repeatable; default: the default DMCs).")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path), help="Write diff.json, diff.md, runs.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--xsd", default=None, help="DUIS schema for the runs (else S1SR_DUIS_XSD, else pyproject).")
def diff(a: str, b: str, dmcs: tuple[str, ...], report_dir: Path | None, as_json: bool, xsd: str | None) -> None:
    """Compare two S1SR versions, or a version with and without packs (4.3 4.3+MP312): clauses, Annex C, SRV
    rules, and behaviours that differ.

    Four runs give the evidence (each version's S1SP on its own scenarios and on the other's); their progress
    goes to stderr, so that --json leaves stdout to the JSON.
    """
    from rich.table import Table

    from s1sr.catalogue import default_dmcs, find_dmc
    from s1sr.diff import version_diff, what_differs, write_diff

    for where, version in (("A", a), ("B", b)):
        try:
            load_catalogue(version)
        except ConfigError as exc:  # name the argument the user typed, not --s1sr-version
            raise ConfigError(exc.what, f"s1sr diff {where}", exc.fix) from None
    for name in dmcs:
        find_dmc(name)
    work = report_dir / "runs" if report_dir is not None else None
    view = DiffProgressView(err)  # stderr, with --json too: stdout holds the JSON only
    try:
        result = version_diff(a, b, list(dmcs) or default_dmcs(), xsd, work, view)
    finally:
        view.close()
    if report_dir is not None:
        write_diff(result, report_dir)
    if as_json:
        out.print(json.dumps(result.as_dict(), indent=2), markup=False)
        return
    table = Table(title=f"S1SR {a} -> {b} on {', '.join(result.dmc)}")
    for column in ("clause", "title", "status", "what differs"):
        table.add_column(column)
    for c in result.clauses:
        table.add_row(c.id, c.title, c.status, what_differs(result, c))
    out.print(table)
    for d in result.annex_c_added:
        out.print(f"Annex C added: SRV {d['srv']} {d['command']}.{d['field']} = {json.dumps(d['value'])}", markup=False)
    for d in result.annex_c_removed:
        out.print(f"Annex C removed: SRV {d['srv']} {d['command']}.{d['field']}", markup=False)
    for d in result.annex_c_changed:
        out.print(f"Annex C changed: SRV {d['b']['srv']} {d['b']['command']}.{d['b']['field']}", markup=False)
    for rule in result.srv_rules:
        if "changes" in rule:
            parts = "; ".join(f"{k} {json.dumps(v['a'])} -> {json.dumps(v['b'])}" for k, v in rule["changes"].items())
            out.print(f"SRV {rule['srv']} rule changed by {rule['changed_by']}: {parts}", markup=False)


@main.command()
@click.option("--report-dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Report folder.")
@click.option("--s1sr-version", default=DEFAULT_VERSION, show_default=True)
@click.option("--xsd", default=None, help="DUIS schema for the run, when one is needed.")
def consultation(report_dir: Path, s1sr_version: str, xsd: str | None) -> None:
    """Write consultation.docx and consultation.md: per question, a response box and the evidence of a run.

    Uses REPORT_DIR/results.json when it holds a run of the same S1SR version. Otherwise runs the
    suite first: into REPORT_DIR when it holds no run, else into REPORT_DIR-s1sr-VERSION beside
    it, so another run's reports are never overwritten. The pack goes beside the run it is built from.
    """
    import subprocess

    from s1sr.report.consultation import build_pack, pack_docx, pack_markdown
    from s1sr.report.files import write_atomically

    catalogue = load_catalogue(s1sr_version)
    results = _results_in(report_dir)
    if results is not None and results.get("s1sr_version") != s1sr_version:
        held = results.get("s1sr_version", "another version")
        report_dir = report_dir.with_name(f"{report_dir.name}-s1sr-{s1sr_version}")
        out.print(f"the run there is of S1SR {held}, which stays as it is; using {report_dir}", markup=False)
        results = _results_in(report_dir)
    if results is None or results.get("s1sr_version") != s1sr_version:
        if results is not None:
            raise InputError(
                f"{report_dir / 'results.json'} holds a run of S1SR {results.get('s1sr_version')}",
                "--report-dir",
                "choose another folder",
            )
        out.print(f"no S1SR {s1sr_version} run in {report_dir}: running the suite first", markup=False)
        args = [sys.executable, "-m", "s1sr", "run", "--s1sr-version", s1sr_version, "--report-dir", str(report_dir)]
        if xsd:
            args += ["--xsd", xsd]
        done = subprocess.run(args, capture_output=True, text=True)
        if done.returncode not in (0, 1, 3):
            raise InputError("the run for the pack failed", "consultation", done.stderr.strip()[-200:])
        results = _results_in(report_dir) or {}
    pack = build_pack(catalogue, results)
    write_atomically(report_dir / "consultation.md", pack_markdown(pack).encode("utf-8"))
    write_atomically(report_dir / "consultation.docx", pack_docx(pack))
    out.print(
        f"consultation pack: {report_dir / 'consultation.docx'} and {report_dir / 'consultation.md'}", markup=False
    )


def _results_in(report_dir: Path) -> dict[str, Any] | None:
    """The run recorded in ``report_dir`` (None when it holds none); InputError for an unreadable record."""
    results_file = report_dir / "results.json"
    if not results_file.is_file():
        return None
    try:
        results = json.loads(results_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read results.json ({exc})", str(results_file), "run s1sr run again") from None
    if not isinstance(results, dict):
        raise InputError(
            "results.json is not a run record (not a JSON object)", str(results_file), "run s1sr run again"
        )
    return results
