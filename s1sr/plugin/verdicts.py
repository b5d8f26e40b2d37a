"""How a verdict is decided: each phase of a scenario example classified, its steps marked, the record written."""

from __future__ import annotations

from typing import Any

import pytest

from s1sr.devices.adapter import DeviceError
from s1sr.errors import S1srError
from s1sr.gherkin import Mismatch
from s1sr.observability import NOT_OBSERVABLE, PREDATED
from s1sr.plugin.journaling import end_journal, is_controller, is_worker, journal_result, record_of_run, worker_count
from s1sr.plugin.keys import NOT_APPLICABLE, RESULT_KEY, SESSION_KEY
from s1sr.plugin.settings import SETTINGS_KEY
from s1sr.report.results import ScenarioResult


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Classify each phase's outcome into a verdict."""
    report = yield
    result = item.stash.get(RESULT_KEY, None)
    if result is None:
        return report
    result.duration_s = round(result.duration_s + report.duration, 6)
    if report.when == "setup":
        if report.skipped:
            reason = _skip_reason(report)
            result.outcome = "not applicable" if reason.startswith(NOT_APPLICABLE) else "not run"
            result.reason = reason.removeprefix(NOT_APPLICABLE)
        elif report.failed:
            result.outcome, result.reason = "error", _failure(call)
    elif report.when == "call":
        if report.passed:
            result.outcome = "passed"
        elif report.skipped:  # a step found the scenario cannot apply here (a User this target cannot act as)
            reason = _skip_reason(report)
            result.outcome = "not applicable" if reason.startswith(NOT_APPLICABLE) else "not run"
            result.reason = reason.removeprefix(NOT_APPLICABLE)
        else:
            excinfo = call.excinfo
            assertion = excinfo is not None and excinfo.errisinstance(AssertionError)
            result.outcome = "failed" if assertion else "error"
            result.reason = _failure(call)
            predated = _predated(item)
            if assertion and predated:  # judged an answer that is not about this scenario's rig
                result.outcome = "not applicable"
                result.reason = f"{PREDATED}{predated[0]}; what failed: {result.reason}"
            if excinfo is not None and isinstance(excinfo.value, Mismatch):
                m = excinfo.value
                result.mismatch = {"what": m.what, "expected": m.expected, "actual": m.actual}
    elif report.when == "teardown":
        session = item.stash.get(SESSION_KEY, None)
        if session is not None:
            result.evidence = session.evidence_dicts()
            del item.stash[SESSION_KEY]  # items live as long as the run: its exchanges and devices need not
        if report.failed and result.outcome == "passed":
            result.outcome, result.reason = "error", _failure(call)
        settings = item.config.stash.get(SETTINGS_KEY, None)
        if settings is not None:  # the verdict is final: into the journal before anyone hears of it
            journal_result(item.config, settings, result)
    return report


def _predated(item: pytest.Item) -> list[str]:
    """Why answers of the item's scenario may come from the S1SP's cache of an earlier read (none: empty)."""
    session = item.stash.get(SESSION_KEY, None)
    return list(session.predated) if session is not None else []


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _failure(call: pytest.CallInfo[None]) -> str:
    if call.excinfo is None:
        return ""
    exc = call.excinfo.value
    kind = "device error" if isinstance(exc, DeviceError) else type(exc).__name__
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else kind
    return text if isinstance(exc, AssertionError) else f"{kind}: {text}"


def _result_of(request: pytest.FixtureRequest) -> ScenarioResult | None:
    node: pytest.Item = request.node
    return node.stash.get(RESULT_KEY, None)


def pytest_bdd_before_scenario(request: pytest.FixtureRequest, feature: Any, scenario: Any) -> None:
    """List the scenario's steps, each ``not run`` until it runs."""
    result = _result_of(request)
    if result is not None:
        result.steps = [
            {"keyword": s.keyword.strip(), "text": s.name, "line": s.line_number, "status": "not run"}
            for s in scenario.steps
        ]


def _mark_step(request: pytest.FixtureRequest, scenario: Any, step: Any, status: str) -> None:
    result = _result_of(request)
    if result is not None:
        for index, candidate in enumerate(scenario.steps):
            if candidate is step and index < len(result.steps):
                result.steps[index]["status"] = status


#: How many of the session's not-observed notes the scenario's steps have accounted for.
_NOTED_KEY = pytest.StashKey[int]()


def pytest_bdd_after_step(
    request: pytest.FixtureRequest, feature: Any, scenario: Any, step: Any, step_func: Any, step_func_args: Any
) -> None:
    """A step passed, or (a device-side step on a target without its view) was not observable."""
    status = "passed"
    session = request.node.stash.get(SESSION_KEY, None)
    if session is not None:
        noted = len(session.not_observed)
        if noted > request.node.stash.get(_NOTED_KEY, 0):
            request.node.stash[_NOTED_KEY] = noted
            status = NOT_OBSERVABLE
            result = _result_of(request)
            if result is not None:
                result.not_observed.append(f"{step.keyword.strip()} {step.name}")
    _mark_step(request, scenario, step, status)


def pytest_bdd_step_error(
    request: pytest.FixtureRequest,
    feature: Any,
    scenario: Any,
    step: Any,
    step_func: Any,
    step_func_args: Any,
    exception: Exception,
) -> None:
    """A step failed (an assertion) or errored (anything else); a failed check of an answer that may come from
    before the scenario (:mod:`s1sr.earlier_reads`) is not observable."""
    status = "failed" if isinstance(exception, AssertionError) else "error"
    if status == "failed" and _predated(request.node):
        status = NOT_OBSERVABLE
    _mark_step(request, scenario, step, status)


def pytest_bdd_step_func_lookup_error(
    request: pytest.FixtureRequest, feature: Any, scenario: Any, step: Any, exception: Exception
) -> None:
    """No step definition matches the step's text."""
    _mark_step(request, scenario, step, "undefined")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """End this process's journal; then (not in a worker) rebuild the record from it and publish the reports.

    The report set goes into the claimed folder as one set, or the reason it could not is kept.
    """
    config = session.config
    settings = config.stash.get(SETTINGS_KEY, None)
    if settings is None:
        return
    end_journal(config, exitstatus)
    if is_worker(config):  # the controller renders the run from every worker's lines
        return
    from s1sr.report.results import finish

    record = settings.record
    record.requests_validated = settings.counts.requests_validated
    record.responses_validated = settings.counts.responses_validated
    record.invalid = settings.counts.invalid
    record.interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
    finish(record)
    settings.record = record_of_run(config, settings, record)
    # A run that recorded nothing (killed before collection ended, nothing selected) keeps the previous set.
    if settings.report_claim is not None and settings.record.scenarios and not settings.report_error:
        from s1sr.report.writer import report_contents

        try:
            # on workers the cores are the run's: each report is written by a process of its own
            parallel = worker_count(config) if is_controller(config) else 1
            settings.report_claim.publish(report_contents(settings.record, settings.catalogue), parallel)
        except S1srError as exc:  # a disk that filled during the run: the previous set stays whole
            settings.report_error = exc.line()
