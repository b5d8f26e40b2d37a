"""The pytest plugin: options, shipped steps, DMC parametrisation, applicability and honest verdicts.

Loaded by the repository's ``conftest.py`` and by ``s1sr run`` (``-p s1sr.plugin``).
Scenario tags become marks: ``@clause-18.27`` -> ``clause("18.27")``, ``@srv-2.1`` ->
``srv("2.1")``, ``@s1sr-4.2`` -> ``s1sr_version("4.2")``; an Examples block tagged
``@fuel-electricity`` or ``@fuel-gas`` applies to meters of that fuel only.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from s1sr.bundle import features_dir, steps_dir
from s1sr.catalogue import DEFAULT_VERSION, Catalogue, default_dmcs, find_dmc, load_catalogue
from s1sr.devices.adapter import DeviceError
from s1sr.devices.recording import RecordingAdapter
from s1sr.devices.registry import adapter_class, create_adapter
from s1sr.duis.schema import DuisSchema, find_schema, load_schema
from s1sr.duis.signing import Credentials, generated_credentials, load_credentials
from s1sr.errors import ConfigError, S1srError
from s1sr.features_index import check_features
from s1sr.gherkin import Mismatch
from s1sr.report.results import RunRecord, ScenarioResult
from s1sr.s1sp.api import S1SP
from s1sr.s1sp.registry import s1sp_class
from s1sr.session import SchemaCounts, UserSession

TAG_MARKS = {"clause-": "clause", "srv-": "srv", "s1sr-": "s1sr_version"}
FUEL_MARKS = {"fuel-electricity": "electricity", "fuel-gas": "gas"}
NOT_APPLICABLE = "not applicable: "


@dataclass
class RunSettings:
    """What this run tests: version, DMCs, feature folders, schema."""

    version: str
    catalogue: Catalogue
    dmcs: list[str]
    feature_dirs: list[Path]
    schema: DuisSchema | None
    schema_note: str
    timeout_s: float
    record: RunRecord
    credentials: Credentials
    adapter: str = "simulated"
    adapter_options: dict[str, str] = field(default_factory=dict)
    s1sp: str = "reference"
    s1sp_catalogue: Catalogue | None = None
    counts: SchemaCounts = field(default_factory=SchemaCounts)


_ACTIVE: list[RunSettings] = []
RESULT_KEY = pytest.StashKey[ScenarioResult]()
SESSION_KEY = pytest.StashKey[UserSession]()


def active_feature_dirs() -> list[Path]:
    """The feature folders of the run being collected (the shipped ones outside a run)."""
    return _ACTIVE[-1].feature_dirs if _ACTIVE else [features_dir()]


def pytest_addoption(parser: pytest.Parser) -> None:
    """The s1sr options."""
    group = parser.getgroup("s1sr", "S1SR conformance")
    group.addoption("--s1sr-version", default=DEFAULT_VERSION, help="S1SR version whose catalogue applies")
    group.addoption(
        "--s1sr-s1sp-version", default=None, help="S1SR version whose rules the S1SP applies (default: --s1sr-version)"
    )
    group.addoption("--dmc", action="append", default=[], help="Device Model Combination (repeatable)")
    group.addoption("--s1sr-features", action="append", default=[], help="feature folder (repeatable)")
    group.addoption("--s1sr-clause", action="append", default=[], help="only scenarios of this clause (repeatable)")
    group.addoption("--xsd", default=None, help="path of the official DUIS schema")
    group.addoption("--s1sr-results", default=None, help="folder to write the reports into")
    group.addoption("--s1sr-timeout", type=float, default=30.0, help="seconds per device command")
    group.addoption("--s1sr-adapter", default="simulated", help="device adapter: name or module:attr")
    group.addoption(
        "--s1sr-adapter-option", action="append", default=[], help="KEY=VALUE option for the adapter (repeatable)"
    )
    group.addoption("--s1sr-s1sp", default="reference", help="S1SP under test: name or module:attr")
    group.addoption("--s1sr-signing-key", default=None, help="PEM P-256 key the S1SP signs responses with")
    group.addoption("--s1sr-signing-cert", default=None, help="PEM certificate that verifies that key")


def pytest_configure(config: pytest.Config) -> None:
    """Check the options, load the catalogue and the shipped steps."""
    for name, help_text in (
        ("clause(id)", "S1SR clause a scenario exercises"),
        ("srv(id)", "Service Reference Variant a scenario sends"),
        ("s1sr_version(v)", "S1SR version whose behaviour a scenario describes"),
        ("fuel-electricity", "Examples for electricity meters only"),
        ("fuel-gas", "Examples for gas meters only"),
    ):
        config.addinivalue_line("markers", f"{name}: {help_text}")
    try:
        settings = _settings(config)
    except S1srError as exc:
        raise pytest.UsageError(exc.line()) from None
    _ACTIVE.append(settings)
    config.stash[_SETTINGS_KEY] = settings
    for module in _step_modules(steps_dir()):
        if not config.pluginmanager.is_registered(module):
            config.pluginmanager.register(module, module.__name__)


_SETTINGS_KEY = pytest.StashKey[RunSettings]()


def pytest_unconfigure(config: pytest.Config) -> None:
    """Forget this run's settings."""
    settings = config.stash.get(_SETTINGS_KEY, None)
    if settings is not None and settings in _ACTIVE:
        _ACTIVE.remove(settings)


def _settings(config: pytest.Config) -> RunSettings:
    return build_settings(
        version=config.getoption("--s1sr-version"),
        dmcs=list(config.getoption("--dmc")),
        feature_dirs=[Path(p) for p in config.getoption("--s1sr-features")],
        xsd=config.getoption("--xsd"),
        start=Path(config.invocation_params.dir),
        signing_key=config.getoption("--s1sr-signing-key"),
        signing_cert=config.getoption("--s1sr-signing-cert"),
        timeout_s=float(config.getoption("--s1sr-timeout")),
        adapter=config.getoption("--s1sr-adapter"),
        adapter_options=list(config.getoption("--s1sr-adapter-option")),
        s1sp=config.getoption("--s1sr-s1sp"),
        s1sp_version=config.getoption("--s1sr-s1sp-version"),
    )


def build_settings(
    *,
    version: str,
    dmcs: list[str],
    feature_dirs: list[Path],
    xsd: str | None,
    start: Path,
    signing_key: str | Path | None,
    signing_cert: str | Path | None,
    timeout_s: float,
    adapter: str,
    adapter_options: list[str],
    s1sp: str,
    s1sp_version: str | None,
) -> RunSettings:
    """Check and resolve what a run needs; :class:`S1srError` (one line) for anything wrong.

    ``s1sr run`` calls this before pytest starts, and the plugin again inside pytest, so a
    plain ``pytest`` run is checked the same way.
    """
    check_timeout(timeout_s)
    catalogue = load_catalogue(version)
    dmcs = list(dict.fromkeys(dmcs)) or default_dmcs()
    for name in dmcs:
        find_dmc(name)
    dirs = feature_dirs or [features_dir()]
    for folder in dirs:
        if not folder.is_dir():
            raise S1srError("feature folder does not exist", str(folder), "pass an existing folder to --features")
    check_features(dirs)
    setting = find_schema(xsd, start)
    schema = None
    if setting.path is not None:
        schema = load_schema(setting.path)
        note = f"schema validation on: {setting.path} (from {setting.source})"
    else:
        note = "schema validation is off: pass --xsd PATH or set S1SR_DUIS_XSD to the DUIS schema to turn it on"
    record = RunRecord(version, dmcs, xsd=str(setting.path) if setting.path else None)
    if bool(signing_key) != bool(signing_cert):
        raise S1srError("give both a signing key and its certificate", "--signing-key/--signing-cert")
    if signing_key and signing_cert:
        credentials = load_credentials(Path(signing_key), Path(signing_cert))
    else:
        credentials = generated_credentials()
    options = parse_options(adapter_options)
    adapter_class(adapter)
    s1sp_class(s1sp)
    record.adapter, record.s1sp = adapter, s1sp
    s1sp_catalogue = load_catalogue(s1sp_version) if s1sp_version else None
    if s1sp_catalogue is not None and s1sp_version != version:
        record.s1sp = f"{s1sp} (configured for S1SR {s1sp_version})"
    return RunSettings(
        version,
        catalogue,
        dmcs,
        dirs,
        schema,
        note,
        timeout_s,
        record,
        credentials,
        adapter,
        options,
        s1sp,
        s1sp_catalogue,
    )


#: The longest a device command may be given (an hour: a lab device that takes longer is broken, not slow).
MAX_TIMEOUT_S = 3600.0


def check_timeout(timeout_s: float) -> None:
    """A command timeout must be a positive, finite number of seconds up to :data:`MAX_TIMEOUT_S`."""
    if not (math.isfinite(timeout_s) and 0 < timeout_s <= MAX_TIMEOUT_S):
        raise ConfigError(
            f"'{timeout_s:g}' is not a timeout: give a positive number of seconds up to {MAX_TIMEOUT_S:g}",
            "--timeout",
            "for example --timeout 30",
        )


def parse_options(pairs: list[str]) -> dict[str, str]:
    """``KEY=VALUE`` strings as a dict; :class:`S1srError` for one without ``=``."""
    options: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise S1srError(f"'{pair}' is not KEY=VALUE", "--adapter-option")
        options[key.strip()] = value.strip()
    return options


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say once which S1SR version, DMCs and schema the run uses."""
    settings = config.stash.get(_SETTINGS_KEY, None)
    if settings is None:
        return []
    return [
        f"s1sr: S1SR {settings.version}, DMCs {', '.join(settings.dmcs)}, signing with {settings.credentials.source}",
        f"s1sr: {settings.schema_note}",
    ]


def _step_modules(folder: Path) -> Iterator[ModuleType]:
    """Import each step module of ``folder`` by path, once per process."""
    for path in sorted(folder.glob("*.py")):
        if path.name.startswith("_"):
            continue
        name = f"s1sr_steps.{path.stem}"
        module = sys.modules.get(name)
        if module is None:
            spec = importlib.util.spec_from_file_location(name, path)
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
        yield module


def settings_of(config: pytest.Config) -> RunSettings:
    """The run settings held by ``config``."""
    return config.stash[_SETTINGS_KEY]


@pytest.hookimpl(tryfirst=True)
def pytest_bdd_apply_tag(tag: str, function: Any) -> Any:
    """Turn clause, SRV and version tags into parametrised marks."""
    for prefix, mark in TAG_MARKS.items():
        if tag.startswith(prefix):
            getattr(pytest.mark, mark)(tag.removeprefix(prefix))(function)
            return True
    if tag in FUEL_MARKS:
        getattr(pytest.mark, tag)(function)
        return True
    return None


def _is_scenario(function: Any) -> bool:
    from pytest_bdd.scenario import scenario_wrapper_template_registry

    return function in scenario_wrapper_template_registry


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every scenario once per selected DMC."""
    if _is_scenario(metafunc.function):
        settings = settings_of(metafunc.config)
        metafunc.fixturenames.append("s1sr_dmc")
        metafunc.parametrize("s1sr_dmc", settings.dmcs, ids=settings.dmcs)


def _describe(item: pytest.Item) -> ScenarioResult:
    from pytest_bdd.scenario import scenario_wrapper_template_registry

    template = scenario_wrapper_template_registry.get(getattr(item, "obj", None))  # type: ignore[arg-type]
    params = getattr(item, "callspec", None)
    example: dict[str, str] = dict(params.params.get("_pytest_bdd_example", {})) if params else {}
    dmc = params.params.get("s1sr_dmc", "") if params else ""
    if template is not None:
        name = template.render(example).name
        feature = template.feature.name
        feature_file = template.feature.rel_filename
        where = f"{feature_file}:{template.line_number}{_example_position(template, example)}"
    else:
        name, feature, feature_file = item.name, "", str(item.path)
        where = item.nodeid
    return ScenarioResult(
        name=name,
        feature=feature,
        feature_file=feature_file,
        clauses=sorted({m.args[0] for m in item.iter_markers("clause")}),
        srvs=sorted({m.args[0] for m in item.iter_markers("srv")}),
        dmc=dmc,
        nodeid=item.nodeid,
        id=f"{where}[{dmc}]",
        example=example,
    )


def _example_position(template: Any, example: dict[str, str]) -> str:
    """``:LINE#ROW`` of an outline's example row (its Examples block's line, the row from 1), else empty."""
    if not example:
        return ""
    for block in template.examples:
        for row, values in enumerate(block.as_contexts(), start=1):
            if values == example:
                return f":{block.line_number}#{row}"
    return ""


def unique_names(results: list[ScenarioResult]) -> None:
    """Give outline rows whose rendered names coincide (within a DMC) their example values, so every name is unique.

    A name that is still shared after that (two identical rows) gets its row position.
    """
    for attempt in ("values", "position"):
        seen: dict[tuple[str, str], list[ScenarioResult]] = {}
        for result in results:
            seen.setdefault((result.dmc, result.name), []).append(result)
        for group in seen.values():
            if len(group) < 2:
                continue
            for result in group:
                if attempt == "values" and result.example:
                    values = ", ".join(f"{k} = {v}" for k, v in result.example.items())
                    result.name = f"{result.name} ({values})"
                elif attempt == "position":
                    result.name = f"{result.name} ({result.id.rpartition('[')[0]})"


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the selected clauses' scenarios (the others are deselected, like ``-k``)."""
    wanted = set(config.getoption("--s1sr-clause"))
    if wanted:
        keep = [i for i in items if wanted & {m.args[0] for m in i.iter_markers("clause")}]
        dropped = [i for i in items if i not in keep]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_collection_finish(session: pytest.Session) -> None:
    """Record each selected scenario as ``not run`` until it reports.

    This runs after every ``pytest_collection_modifyitems``, so what ``-k``, ``-m``,
    ``--deselect`` or ``--clause`` left out is absent from the record, not "not run".
    """
    settings = session.config.stash.get(_SETTINGS_KEY, None)
    if settings is None:
        return
    selected: list[ScenarioResult] = []
    for item in session.items:
        if _is_scenario(getattr(item, "obj", None)):
            result = _describe(item)
            item.stash[RESULT_KEY] = result
            selected.append(result)
    unique_names(selected)
    settings.record.scenarios.extend(selected)


def applicability(settings: RunSettings, item: pytest.Item, dmc_name: str) -> str | None:
    """Why the scenario does not apply to this version and DMC, or None when it does."""
    dmc = find_dmc(dmc_name)
    for mark in item.iter_markers("s1sr_version"):
        if mark.args[0] != settings.version:
            return f"describes S1SR {mark.args[0]} behaviour; this run is S1SR {settings.version}"
    for tag, fuel in FUEL_MARKS.items():
        if item.get_closest_marker(tag) is not None and dmc.meter.fuel != fuel:
            return f"example for {fuel} meters; {dmc.meter.id} is {dmc.meter.fuel}"
    for mark in item.iter_markers("clause"):
        clause = settings.catalogue.clause(mark.args[0])
        if clause is None:
            return f"clause {mark.args[0]} is not in S1SR {settings.version}"
        if not clause.applies_to(dmc.meter.id):
            return f"Annex A does not map clause {clause.id} to device model {dmc.meter.id}"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip, as ``not applicable``, what the catalogue does not map to this version and DMC."""
    params = getattr(item, "callspec", None)
    if params is None or "s1sr_dmc" not in params.params:
        return
    reason = applicability(settings_of(item.config), item, params.params["s1sr_dmc"])
    if reason is not None:
        pytest.skip(NOT_APPLICABLE + reason)


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
        elif report.skipped:
            result.outcome, result.reason = "not run", _skip_reason(report)
        else:
            excinfo = call.excinfo
            assertion = excinfo is not None and excinfo.errisinstance(AssertionError)
            result.outcome = "failed" if assertion else "error"
            result.reason = _failure(call)
            if excinfo is not None and isinstance(excinfo.value, Mismatch):
                m = excinfo.value
                result.mismatch = {"what": m.what, "expected": m.expected, "actual": m.actual}
    elif report.when == "teardown":
        session = item.stash.get(SESSION_KEY, None)
        if session is not None:
            result.evidence = session.evidence_dicts()
        if report.failed and result.outcome == "passed":
            result.outcome, result.reason = "error", _failure(call)
    return report


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


def pytest_bdd_after_step(
    request: pytest.FixtureRequest, feature: Any, scenario: Any, step: Any, step_func: Any, step_func_args: Any
) -> None:
    """A step passed."""
    _mark_step(request, scenario, step, "passed")


def pytest_bdd_step_error(
    request: pytest.FixtureRequest,
    feature: Any,
    scenario: Any,
    step: Any,
    step_func: Any,
    step_func_args: Any,
    exception: Exception,
) -> None:
    """A step failed (an assertion) or errored (anything else)."""
    _mark_step(request, scenario, step, "failed" if isinstance(exception, AssertionError) else "error")


def pytest_bdd_step_func_lookup_error(
    request: pytest.FixtureRequest, feature: Any, scenario: Any, step: Any, exception: Exception
) -> None:
    """No step definition matches the step's text."""
    _mark_step(request, scenario, step, "undefined")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Write results.json when asked."""
    settings = session.config.stash.get(_SETTINGS_KEY, None)
    if settings is None:
        return
    from s1sr.report.results import finish

    record = settings.record
    record.requests_validated = settings.counts.requests_validated
    record.responses_validated = settings.counts.responses_validated
    record.invalid = settings.counts.invalid
    record.interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
    finish(record)
    folder = session.config.getoption("--s1sr-results")
    if folder:
        from s1sr.report.writer import write_reports

        write_reports(record, settings.catalogue, Path(folder))


# --- fixtures the steps use ------------------------------------------------------


@pytest.fixture
def s1sr_settings(request: pytest.FixtureRequest) -> RunSettings:
    """The run settings."""
    return settings_of(request.config)


@pytest.fixture
def device_adapter(s1sr_settings: RunSettings, s1sr_dmc: str) -> Iterator[RecordingAdapter]:
    """The estate under test, in its starting state, with every command it receives recorded."""
    inner = create_adapter(s1sr_settings.adapter, find_dmc(s1sr_dmc), s1sr_settings.adapter_options)
    adapter = RecordingAdapter(inner)
    try:
        adapter.reset()
        yield adapter
    finally:
        adapter.close()


@pytest.fixture
def s1sp(s1sr_settings: RunSettings, s1sr_dmc: str, device_adapter: RecordingAdapter) -> S1SP:
    """The S1SP under test, configured for the run's S1SR version and this DMC."""
    return s1sp_class(s1sr_settings.s1sp).create(
        s1sr_settings.s1sp_catalogue or s1sr_settings.catalogue,
        find_dmc(s1sr_dmc),
        device_adapter,
        s1sr_settings.credentials,
        s1sr_settings.timeout_s,
    )


@pytest.fixture
def user(
    request: pytest.FixtureRequest,
    s1sr_settings: RunSettings,
    s1sr_dmc: str,
    s1sp: S1SP,
    device_adapter: RecordingAdapter,
) -> UserSession:
    """The DCC User's session; its evidence is attached to the scenario's result."""
    session = UserSession(
        s1sp, device_adapter, find_dmc(s1sr_dmc), s1sr_settings.credentials, s1sr_settings.schema, s1sr_settings.counts
    )
    request.node.stash[SESSION_KEY] = session
    return session
