"""``s1sr run``: the clause suite through pytest-bdd, with a live view and a closing table by clause.

The run happens in this process through ``pytest.main``; with ``workers`` it is handed to pytest-xdist
worker processes, and with ``shard`` only part K of N runs. Either way the record comes from the
run's journal (:mod:`s1sr.report.journal`).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from s1sr.archive.recorder import ArchiveRequest, RunArchive, signing_facts
from s1sr.catalogue import Catalogue, every_clause_id, find_dmc
from s1sr.devices.adapter import DeviceError
from s1sr.devices.registry import create_adapter
from s1sr.errors import ConfigError, InputError, S1srError
from s1sr.plugin import RunSettings, build_settings
from s1sr.plugin.options import OUTCOME_PROPERTY, SettingsHandoff, refuse_workers_over_duis
from s1sr.plugin.settings import DUIS_OPTIONS, IN_PROCESS, claim_reports
from s1sr.report.results import CONFORMANT, INTERRUPTED_EXIT, NOT_CONFORMANT, RUN_VERDICTS, VERDICTS, RunRecord
from s1sr.report.waivers import describe, load_waivers

SUITE = Path(__file__).resolve().parent / "suite"
STYLES = {
    "passed": "green",
    "failed": "red",
    "error": "magenta",
    "waived": "cyan",
    "not applicable": "dim",
    "not run": "yellow",
}


@dataclass
class RunOptions:
    """What the user asked ``s1sr run`` for."""

    version: str
    dmcs: list[str] = field(default_factory=list)
    clauses: list[str] = field(default_factory=list)
    report_dir: Path | None = None
    feature_dirs: list[Path] = field(default_factory=list)
    xsd: str | None = None
    timeout_s: float = 30.0
    pytest_args: list[str] = field(default_factory=list)
    signing_key: Path | None = None
    signing_cert: Path | None = None
    adapter: str = "simulated"
    adapter_options: list[str] = field(default_factory=list)
    #: The S1SP in process (None: not given, the reference one).
    s1sp: str | None = None
    s1sp_version: str | None = None
    #: Where the S1SP under test is: "in-process" or "duis" (a DUIS endpoint, reached as a DCC User).
    target: str = IN_PROCESS
    #: The DUIS target's options, by :data:`s1sr.plugin.settings.DUIS_OPTIONS` field (only those given).
    duis: dict[str, Any] = field(default_factory=dict)
    #: pytest-xdist worker processes (0: none, the scenarios run in this process).
    workers: int = 0
    #: ``K/N``: run only part K of N of the selected scenarios (merge the parts' journals with ``s1sr report``).
    shard: str | None = None
    #: Where the run's journal goes (default: beside the report folder; none without one, unless on workers).
    journal: Path | None = None
    #: Replace the reports of a run of other settings in ``report_dir`` (else that is refused).
    force: bool = False
    # --- archive hook (s1sr.archive) ---
    #: Keep the run in the archive (None: not kept, as for a library caller or --no-archive).
    archive: ArchiveRequest | None = None
    #: Run only these scenario examples, by pytest node id (``--rerun``); empty: every selected one.
    nodeids: list[str] = field(default_factory=list)
    #: The deviation register (``--waivers FILE``): known deviations reported ``waived`` (None: none).
    waivers: Path | None = None
    # --- pool hook (s1sr.devices.pool) ---
    #: The pool file of lab rigs (``--pool FILE``); ``--device-url`` given more than once makes a pool too.
    pool: Path | None = None


#: Most worker processes a run may ask for.
MAX_WORKERS = 64


class LiveView:
    """A pytest plugin object: rich progress while scenarios run, with the failed and error counts so far,
    and the collection failures."""

    def __init__(self, console: Console) -> None:
        self.console = console
        # The bar takes what the other columns leave, so the line fits an 80-column terminal.
        self.progress = Progress(
            TextColumn("[bold]S1SR scenarios"),
            BarColumn(bar_width=None),
            MofNCompleteColumn(),
            TextColumn("{task.fields[tally]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            expand=True,
        )
        self.task: Any = None
        self.collect_errors: list[str] = []
        self.tally = dict.fromkeys(VERDICTS, 0)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """Keep collection failures (a feature file that does not parse, a missing step module)."""
        if report.failed:
            text = str(report.longrepr).strip().splitlines()
            line = text[-1] if text else f"cannot collect {report.nodeid}"
            if text and text[0].startswith("Different tests were collected between"):  # pytest-xdist runs nothing
                line = "the workers collected different scenarios (did a feature file change during the run?)"
            if line not in self.collect_errors:  # every worker collects, and reports the same failure
                self.collect_errors.append(line)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """Start the progress bar once the scenario count is known."""
        self.start(len(session.items))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """With workers: start the progress bar when the first worker has collected."""
        if self.task is None:
            self.start(len(ids))

    def start(self, total: int) -> None:
        """Show the progress bar for ``total`` scenarios."""
        self.progress.start()
        self.task = self.progress.add_task("run", total=total, tally=self.tally_text())

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Count a scenario's outcome as it finishes (the plugin puts it on the teardown report, also from workers)."""
        outcome = dict(report.user_properties).get(OUTCOME_PROPERTY) if report.when == "teardown" else None
        if outcome in self.tally:
            self.tally[str(outcome)] += 1
            if self.task is not None:
                self.progress.update(self.task, tally=self.tally_text())

    def tally_text(self) -> str:
        """``3 failed  1 error``: coloured once there is one, dim while none."""
        return "  ".join(
            f"[{STYLES[v] if self.tally[v] else 'dim'}]{self.tally[v]} {v}[/]" for v in ("failed", "error")
        )

    def pytest_runtest_logfinish(self, nodeid: str, location: Any) -> None:
        """Advance after each scenario (its verdict is final after teardown)."""
        if self.task is not None:
            self.progress.advance(self.task)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Stop the live view."""
        if self.task is not None:
            self.progress.stop()


def check_options(options: RunOptions) -> RunSettings:
    """Validate everything a run needs before it starts (one-line errors, exit code 2)."""
    register = load_waivers(options.waivers) if options.waivers is not None else None
    settings = build_settings(
        version=options.version,
        dmcs=options.dmcs,
        feature_dirs=options.feature_dirs,
        xsd=options.xsd,
        start=Path.cwd(),
        signing_key=options.signing_key,
        signing_cert=options.signing_cert,
        timeout_s=options.timeout_s,
        adapter=options.adapter,
        adapter_options=options.adapter_options,
        s1sp=options.s1sp,
        s1sp_version=options.s1sp_version,
        shard=options.shard,
        target=options.target,
        duis=options.duis,
        pool=options.pool,
    )
    if not 0 <= options.workers <= MAX_WORKERS:
        raise ConfigError(
            f"'{options.workers}' is not a number of workers: give 1 to {MAX_WORKERS}, or 0 for none",
            "--workers",
            "for example --workers 2 on two cores",
        )
    refuse_workers_over_duis(settings, options.workers > 0)
    if options.workers > 1 and settings.pool is None and "url" in settings.adapter_options:
        raise ConfigError(
            f"--workers {options.workers} would drive one rig from {options.workers} processes at once",
            "--workers",
            "give each worker a rig: --device-url once per rig (with --dmc), or --pool FILE",
        )
    for folder in settings.feature_dirs:
        if not any(folder.rglob("*.feature")):
            raise InputError("no .feature files in this folder", str(folder))
    every = every_clause_id()
    for clause in options.clauses:
        if clause not in every:
            known = ", ".join(c.id for c in settings.catalogue.clauses)
            raise ConfigError(f"unknown clause '{clause}'", "--clause", f"choose from {known}")
    settings.record.use_waivers(register)
    if settings.pool is not None:  # pool hook: every rig answers and holds its DMC, before anything runs
        settings.pool.check(settings.dmcs, settings.adapter_options)
    else:  # an adapter that cannot serve a DMC is a configuration error, before anything runs
        for name in settings.dmcs:
            try:
                create_adapter(options.adapter, find_dmc(name), settings.adapter_options).close()
            except DeviceError as exc:
                raise ConfigError(
                    str(exc), f"--adapter {options.adapter}", "check that the devices are reachable"
                ) from None
    settings.start_target()  # the DUIS target's response listener: a port in use is found now
    try:
        # Last: nothing above fails while holding the folder.
        claim_reports(settings, options.report_dir, journal=options.journal, force=options.force)
    except BaseException:
        settings.stop_target()
        raise
    return settings


def with_pool_workers(options: RunOptions, settings: RunSettings) -> RunOptions:
    """Pool hook: without ``--workers``, one worker process per rig of the run, so every rig is busy (none for one)."""
    if options.workers or settings.pool is None:
        return options
    return replace(options, workers=min(settings.pool.workers(settings.dmcs), MAX_WORKERS))


def pytest_arguments(options: RunOptions, dmcs: list[str], folders: list[Path], xsd: str | None) -> list[str]:
    """The pytest command line for a run."""
    args = [
        str(SUITE / "test_clauses.py"),
        "-c",
        str(SUITE / "s1sr-run.ini"),
        "--rootdir",
        str(SUITE),
        "-p",
        "pytest_bdd.plugin",
        "-p",
        "s1sr.plugin",
        "-p",
        "no:terminal",
        "--s1sr-version",
        options.version,
        "--s1sr-timeout",
        str(options.timeout_s),
    ]
    for name in dmcs:
        args += ["--dmc", name]
    for folder in folders:
        args += ["--s1sr-features", str(folder.resolve())]
    for clause in options.clauses:
        args += ["--s1sr-clause", clause]
    if xsd:
        args += ["--xsd", xsd]
    if options.report_dir is not None:
        args += ["--s1sr-results", str(options.report_dir.resolve())]
    args += ["--s1sr-adapter", options.adapter, "--s1sr-target", options.target]
    if options.s1sp:
        args += ["--s1sr-s1sp", options.s1sp]
    for name, value in options.duis.items():
        for one in value if isinstance(value, (list, tuple)) else [value]:
            args += [f"--s1sr-{DUIS_OPTIONS[name]}", str(one)]
    if options.s1sp_version:
        args += ["--s1sr-s1sp-version", options.s1sp_version]
    for pair in options.adapter_options:
        args += ["--s1sr-adapter-option", pair]
    if options.signing_key is not None and options.signing_cert is not None:
        args += ["--s1sr-signing-key", str(options.signing_key), "--s1sr-signing-cert", str(options.signing_cert)]
    if options.pool is not None:  # pool hook
        args += ["--s1sr-pool", str(options.pool.resolve())]
    if options.shard:
        args += ["--s1sr-shard", options.shard]
    if options.workers:  # the run loads no plugin by entry point (ONLY_NAMED_PLUGINS): xdist is named
        args += ["-p", "xdist.plugin", "-n", str(options.workers)]
    if options.nodeids:  # archive hook: --rerun keeps only these (a plugin, so that workers keep them too)
        args += ["-p", "s1sr.archive.selection", *(f"--s1sr-rerun={nodeid}" for nodeid in options.nodeids)]
    return args + options.pytest_args


def run_suite(options: RunOptions, out: Console, err: Console) -> int:
    """Run the suite; return the exit code (0 conformant, 1 not conformant, 3 inconclusive, 2 bad usage, 130).

    With ``options.archive`` the run is kept in the archive (:mod:`s1sr.archive`), unless it ran nothing;
    its last line names the run's folder there.
    """
    if options.archive is None:
        return _run_suite(options, out, err, None)
    archive = RunArchive.open(options.archive)  # before anything runs: an unwritable archive is a usage error
    options = archive.run_options(options)
    code: int | None = None
    try:
        code = _run_suite(options, out, err, archive)
        if archive.settings is None:  # nothing ran (bad usage): nothing to keep
            archive.discard()
            return code
        folder = archive.keep(options)
    except BaseException as exc:
        if archive.settings is None:  # nothing ran: nothing to keep
            archive.discard()
            raise
        archive.release()  # a run that ran: its journal stays in the hidden folder (s1sr runs names it)
        if code is None or not isinstance(exc, S1srError):
            raise
        err.print(f"s1sr: error: {exc.line()}", markup=False)  # the verdict stands; the archive could not keep it
        return code
    out.print(f"archive: {folder}", markup=False)  # the last line: where the run is kept
    return code


def _run_suite(options: RunOptions, out: Console, err: Console, archive: RunArchive | None) -> int:
    """Run the suite and print its table; the exit code. Hands the settings of a run that ran to ``archive``."""
    settings = check_options(options)
    options = with_pool_workers(options, settings)  # pool hook
    # What the record carries besides its scenarios, before the plugin journals it: the report header's facts.
    settings.record.tool["signing"] = signing_facts(settings, options.workers > 0, options.signing_key is not None)
    if archive is not None:
        settings.record.archive = archive.facts()
    catalogue, dmcs, folders = settings.catalogue, settings.dmcs, settings.feature_dirs
    xsd = settings.record.xsd
    if xsd is None:
        out.print(
            "schema validation is off: pass --xsd PATH or set S1SR_DUIS_XSD to the DUIS schema to turn it on",
            markup=False,
        )
    view = LiveView(out)
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with only_named_plugins():
            code = pytest.main(pytest_arguments(options, dmcs, folders, xsd), plugins=[view, SettingsHandoff(settings)])
    finally:
        signal.signal(signal.SIGTERM, previous)
        settings.stop_target()
        if settings.report_claim is not None:
            settings.report_claim.release()
        if settings.journal is not None and settings.journal.temporary:
            settings.journal.path.unlink(missing_ok=True)
    if view.collect_errors:
        for line in view.collect_errors:
            err.print(f"s1sr: error: {line}", markup=False)
        return 2
    if code == pytest.ExitCode.USAGE_ERROR:
        return 2
    record = settings.record
    if settings.report_error and not record.scenarios:  # the record could not be rebuilt from the journal
        err.print(f"s1sr: error: the reports were not written: {settings.report_error}", markup=False)
        return 2
    if not record.scenarios:
        err.print("s1sr: error: no scenario was selected; check --clause, --features and -k", markup=False)
        return 2
    if archive is not None:  # archive hook: something ran, so the run is kept
        archive.settings = settings
    render_summary(record, catalogue, out)
    for line in settings.warnings:
        err.print(f"s1sr: warning: {line}", markup=False)
    if settings.report_error:
        err.print(f"s1sr: error: the reports were not written: {settings.report_error}", markup=False)
        return 2
    in_archive = archive is not None and settings.journal is not None and settings.journal.path == archive.journal
    if settings.journal is not None and not settings.journal.temporary and not in_archive:
        out.print(f"journal: {settings.journal.path}", markup=False)
    if code == pytest.ExitCode.INTERRUPTED:
        out.print("run interrupted: scenarios that did not finish are reported as not run", markup=False)
    if options.report_dir is not None:  # the last line: where a person opens the run
        report = options.report_dir / "index.html"
        out.print(f"report: {report} (and results.json, junit.xml, cucumber.json)", markup=False)
    if code == pytest.ExitCode.INTERRUPTED:
        return INTERRUPTED_EXIT
    return RUN_VERDICTS[record.verdict()]


@contextlib.contextmanager
def only_named_plugins() -> Iterator[None]:
    """A run loads the pytest plugins it names (pytest-bdd, s1sr's, xdist with workers) and no other.

    pytest otherwise loads every plugin installed beside it by its entry point: a plugin a machine happens
    to have could change how scenarios run, and importing them (hypothesis, anyio...) was a tenth of a
    default run. pytest-xdist's workers inherit the setting with the environment.
    """
    before = os.environ.get(AUTOLOAD)
    os.environ[AUTOLOAD] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(AUTOLOAD, None)
        else:
            os.environ[AUTOLOAD] = before


#: pytest's switch for plugins found by their entry points.
AUTOLOAD = "PYTEST_DISABLE_PLUGIN_AUTOLOAD"


def _interrupt(signum: int, frame: Any) -> None:
    """SIGTERM stops a run the way Ctrl-C does, so pytest finishes the reports."""
    raise KeyboardInterrupt


def render_summary(record: RunRecord, catalogue: Catalogue, out: Console) -> None:
    """The closing table by clause, the problems, the deviation register's waivers, and the overall verdict."""
    record.apply_waivers()
    shown = record.shown_verdicts()  # a "waived" column only when a register is in force
    table = Table(
        title=f"S1SR {record.s1sr_version} on {', '.join(record.dmc)} (adapter {record.adapter}, S1SP {record.s1sp})",
        box=box.SIMPLE_HEAD,  # no vertical rules and one space between columns: the table fits 80 characters
        collapse_padding=True,
        pad_edge=False,
        # With the "waived" column, cells lose their own padding (the rule's space still parts them) to fit 80.
        padding=(0, 0) if "waived" in shown else (0, 1),
    )
    # Narrow terminals (80 columns): numbers and headers are kept whole, the title wraps by words,
    # provenance is two short lines (stated by / detail by) and the verdict headers are their words stacked.
    table.add_column("clause", no_wrap=True)
    table.add_column("title", ratio=1, min_width=12, overflow="fold")
    table.add_column("provenance", no_wrap=True)
    for verdict in shown:
        table.add_column(verdict.replace(" ", "\n"), justify="right", style=STYLES[verdict], no_wrap=True)
    for clause_id, counts in record.by_clause().items():
        clause = catalogue.clause(clause_id)
        title = clause.title if clause else "(not in this version)"
        provenance = f"{clause.provenance}\n{clause.detail_provenance}" if clause else "-"
        table.add_row(clause_id, title, provenance, *(str(counts[v]) for v in shown))
    out.print(table)
    problems = [s for s in record.scenarios if s.outcome in ("failed", "error", "not run", "waived")]
    for s in problems:
        where = escape(f"{', '.join(s.clauses)} [{s.dmc}] {s.name}")
        out.print(f"[{STYLES[s.outcome]}]{s.outcome.upper()}[/] {where}")
        if s.waiver is not None:
            w = s.waiver
            out.print(f"    {s.waived_outcome}, waiver {w['number']}: {w['reason']} [{w['reference']}]", markup=False)
        out.print(f"    {s.reason}", markup=False)
    summary = record.summary()
    out.print(", ".join(f"{summary[v]} {v}" for v in shown), markup=False)
    for line in deviation_lines(record):
        out.print(line, markup=False)
    if record.xsd:
        out.print(
            f"schema: {record.requests_validated} requests and {record.responses_validated} responses validated, "
            f"{record.invalid} invalid ({record.xsd})",
            markup=False,
        )
    verdict, reason = record.verdict_and_reason()
    colour = {CONFORMANT: "green", NOT_CONFORMANT: "red"}.get(verdict, "yellow")
    out.print(f"[bold {colour}]{verdict}[/]: {escape(reason)}")


def deviation_lines(record: RunRecord) -> list[str]:
    """One line per waiver of the register in force: applied (to how many), expired (since when), unused (why)."""
    judged = record.deviations
    if judged is None:
        return []
    lines = [f"deviation register {judged['source']}, judged on {judged['judged_on']}:"]
    for w in judged["applied"]:
        lines.append(
            f"  waiver {w['number']} applied to {len(w['scenarios'])} scenario(s) ({describe(w)}): {w['reason']} "
            f"[{w['reference']}], accepted by {w['accepted_by']}, expires {w['expires']}"
        )
    for w in judged["expired"]:
        would = f"; it would cover {len(w['would_cover'])} scenario(s)" if w["would_cover"] else ""
        lines.append(
            f"  waiver {w['number']} expired: live until {w['expires']} ({describe(w)}) [{w['reference']}]{would}"
        )
    for w in judged["unused"]:
        lines.append(f"  waiver {w['number']} unused ({describe(w)}) [{w['reference']}]: {w['note']}")
    return lines
