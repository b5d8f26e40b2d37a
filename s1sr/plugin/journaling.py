"""The run's journal, from the plugin's side: which process writes what, and the record rebuilt from it.

A run without workers is one process (``main``): it makes the journal (when it has a report folder or
``--s1sr-journal``; else its record stays in memory), writes every line, and at the end rebuilds the
record from the journal and publishes the reports. Under pytest-xdist the controller makes the journal
(a temporary one when no place was named) and hands its path to the workers (``workerinput``); each
worker writes its header, the selection it collected and every scenario it finished; the controller
writes its header, the scenarios whose worker crashed and its end, then rebuilds the record from every
process's lines and publishes.
Workers never claim the report folder, so the claim stays with the one process that publishes.
See :mod:`s1sr.report.journal` for the file.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from s1sr.errors import S1srError
from s1sr.plugin.settings import SETTINGS_KEY, RunSettings
from s1sr.report.journal import (
    CONTROLLER,
    MAIN,
    JournalTarget,
    JournalWriter,
    merge_journals,
    now,
    read_journal,
)
from s1sr.report.results import RunRecord, ScenarioResult, scenario_dict
from s1sr.session import SchemaCounts

#: This process's journal writer, on the pytest config.
JOURNAL_KEY = pytest.StashKey[JournalWriter]()
#: The schema counts when this process last journaled a scenario (a scenario's own counts are the difference).
_COUNTED = pytest.StashKey[SchemaCounts]()
#: Keys of ``workerinput`` (controller to workers) and ``workeroutput`` (workers to controller).
WORKER_JOURNAL, WORKER_RUN, WORKER_JOURNAL_ERROR = "s1sr_journal", "s1sr_run", "s1sr_journal_error"


def is_worker(config: pytest.Config) -> bool:
    """Whether this process is a pytest-xdist worker."""
    return hasattr(config, "workerinput")


def is_controller(config: pytest.Config) -> bool:
    """Whether this process hands scenarios to pytest-xdist workers (and runs none itself)."""
    if is_worker(config) or config.getoption("collectonly", False):
        return False
    return config.getoption("dist", "no") != "no" and bool(config.getoption("tx", None))


def worker_count(config: pytest.Config) -> int:
    """How many pytest-xdist workers the run has (1 without workers)."""
    count = getattr(config.option, "numprocesses", None)
    return count if isinstance(count, int) and count > 1 else 1


def worker_target(config: pytest.Config) -> JournalTarget | None:
    """The journal a worker's controller made for the run (None when the controller made none)."""
    given: dict[str, Any] = getattr(config, "workerinput", {})
    if WORKER_JOURNAL not in given or WORKER_RUN not in given:
        return None
    return JournalTarget(Path(given[WORKER_JOURNAL]), str(given[WORKER_RUN]))


def open_journal(config: pytest.Config, settings: RunSettings) -> None:
    """Start this process's lines of the run's journal with its header (every process, once)."""
    if settings.journal is None:
        return
    if is_worker(config):
        name = str(getattr(config, "workerinput", {}).get("workerid", "worker"))
    else:
        name = CONTROLLER if is_controller(config) else MAIN
    try:
        writer = JournalWriter(settings.journal, name)
    except OSError as exc:
        raise pytest.UsageError(f"cannot write the journal {settings.journal.path} ({exc.strerror or exc})") from None
    writer.header(settings.identity(), now())
    config.stash[JOURNAL_KEY] = writer
    config.stash[_COUNTED] = SchemaCounts()
    if name == CONTROLLER:
        config.pluginmanager.register(ControllerJournal(settings, writer), "s1sr-journal-controller")


def journal_selection(config: pytest.Config, selected: list[ScenarioResult]) -> None:
    """The scenario examples this process collected and kept, in the run's order."""
    writer = config.stash.get(JOURNAL_KEY, None)
    if writer is not None:
        entries = [
            {
                "id": s.id,
                "name": s.name,
                "feature": s.feature,
                "feature_file": s.feature_file,
                "clauses": s.clauses,
                "srvs": s.srvs,
                "dmc": s.dmc,
                "example": s.example,
                "nodeid": s.nodeid,
                "position": s.position,
            }
            for s in selected
        ]
        writer.append("selected", {"scenarios": entries})


def journal_result(config: pytest.Config, settings: RunSettings, result: ScenarioResult) -> None:
    """A finished scenario example, with the schema validations it made."""
    writer = config.stash.get(JOURNAL_KEY, None)
    if writer is None:
        return
    before, after = config.stash[_COUNTED], settings.counts
    counts = {
        "requests_validated": after.requests_validated - before.requests_validated,
        "responses_validated": after.responses_validated - before.responses_validated,
        "invalid": after.invalid - before.invalid,
    }
    config.stash[_COUNTED] = SchemaCounts(after.requests_validated, after.responses_validated, after.invalid)
    fields = scenario_dict(result) | {"nodeid": result.nodeid, "position": result.position}
    where = writer.append("scenario", fields | {"finished": now(), "schema": counts})
    if where is not None:  # the journal holds the evidence now: memory keeps where, not what
        result.evidence = writer.evidence(where, result.id, len(result.evidence))


def end_journal(config: pytest.Config, exitstatus: int) -> None:
    """This process's last line; a worker tells its controller when it could not write its lines."""
    writer = config.stash.get(JOURNAL_KEY, None)
    if writer is None:
        return
    interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
    writer.append("end", {"finished": now(), "interrupted": interrupted, "exitstatus": int(exitstatus)})
    writer.close()
    if is_worker(config) and writer.error:
        config.workeroutput[WORKER_JOURNAL_ERROR] = writer.error  # type: ignore[attr-defined]


def record_of_run(config: pytest.Config, settings: RunSettings, in_memory: RunRecord) -> RunRecord:
    """The run's record, rebuilt from its journal; ``in_memory`` when this process could not write or read it.

    Under pytest-xdist the controller holds no scenario in memory, so its record is the journal's or empty
    (and the reports are then not published: :attr:`RunSettings.report_error` says why).
    """
    writer = config.stash.get(JOURNAL_KEY, None)
    target = settings.journal
    if writer is None or target is None:
        return in_memory
    try:
        if writer.error:
            raise S1srError(writer.error)
        merged = merge_journals([read_journal(target.path, run=target.run)])
    except S1srError as exc:
        if is_controller(config):
            settings.report_error = exc.line()
        else:
            settings.warnings.append(f"{exc.line()}; the reports come from this process's memory")
        return in_memory
    finally:
        if target.temporary:
            with contextlib.suppress(OSError):
                target.path.unlink()
    settings.warnings += merged.warnings
    return merged.record


class ControllerJournal:
    """The pytest-xdist controller's part: hand the journal to each worker, note crashes and workers' failures."""

    def __init__(self, settings: RunSettings, writer: JournalWriter) -> None:
        self.settings = settings
        self.writer = writer

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """Tell a worker where the run's journal is, and the run's token."""
        if self.settings.journal is not None:
            node.workerinput[WORKER_JOURNAL] = str(self.settings.journal.path)
            node.workerinput[WORKER_RUN] = self.settings.journal.run

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """Keep a worker's journal failure: its scenarios after it are ``not run`` in the record."""
        problem = getattr(node, "workeroutput", {}).get(WORKER_JOURNAL_ERROR)
        if problem:
            self.settings.warnings.append(f"worker {node.gateway.id}: {problem}")

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem: str, report: pytest.TestReport, sched: Any) -> None:
        """A worker died under a scenario: it is an ``error`` (the rig or the harness broke, not the S1SP)."""
        self.writer.append("crashed", {"nodeid": crashitem, "reason": str(report.longrepr)})


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Where the journal is, and what the record's reader should know (plain ``pytest`` runs)."""
    settings = config.stash.get(SETTINGS_KEY, None)
    if settings is None or is_worker(config):
        return
    if settings.journal is not None and not settings.journal.temporary:
        terminalreporter.write_line(f"s1sr: journal {settings.journal.path}")
    for line in settings.warnings:
        terminalreporter.write_line(f"s1sr: warning: {line}")
    if settings.report_error:
        terminalreporter.write_line(f"s1sr: error: the reports were not written: {settings.report_error}")
