"""The plugin's command-line options, its configuration from them, and the shipped step modules."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from s1sr.bundle import steps_dir
from s1sr.catalogue import DEFAULT_VERSION
from s1sr.errors import ConfigError, S1srError
from s1sr.plugin.journaling import JOURNAL_KEY, is_controller, is_worker, open_journal, worker_target
from s1sr.plugin.keys import RESULT_KEY
from s1sr.plugin.settings import (
    ACTIVE,
    DUIS,
    DUIS_OPTIONS,
    IN_PROCESS,
    SETTINGS_KEY,
    TARGETS,
    RunSettings,
    build_settings,
    claim_reports,
)
from s1sr.plugin.step_lookup import remember_step_lookups
from s1sr.report.journal import record_facts, start_journal
from s1sr.report.waivers import load_waivers


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
    group.addoption(
        "--s1sr-s1sp", default=None, help="S1SP under test, in process: name or module:attr (default: reference)"
    )
    group.addoption(
        "--s1sr-target",
        default=IN_PROCESS,
        choices=TARGETS,
        help="where the S1SP under test is: in this process (--s1sr-s1sp), or behind a DUIS endpoint",
    )
    group.addoption("--s1sr-duis-url", default=None, help="DUIS target: the endpoint's base URL")
    group.addoption("--s1sr-user-key", default=None, help="DUIS target: the User's PEM P-256 signing key")
    group.addoption("--s1sr-user-cert", default=None, help="DUIS target: the User's PEM certificate")
    group.addoption(
        "--s1sr-trust",
        action="append",
        default=[],
        help="DUIS target: a file or folder of certificates that sign the endpoint's responses (repeatable)",
    )
    group.addoption(
        "--s1sr-user-keys",
        default=None,
        help="DUIS target: a folder of other test Users' keys, NAME.key with its certificate NAME.pem beside it",
    )
    group.addoption(
        "--s1sr-response-listen", default=None, help="DUIS target: HOST:PORT where asynchronous responses arrive"
    )
    group.addoption("--s1sr-response-path", default=None, help="DUIS target: the path they are POSTed to")
    group.addoption(
        "--s1sr-response-timeout", type=float, default=None, help="DUIS target: seconds per request for its result"
    )
    group.addoption("--s1sr-signing-key", default=None, help="PEM P-256 key the S1SP signs responses with")
    group.addoption("--s1sr-signing-cert", default=None, help="PEM certificate that verifies that key")
    group.addoption(
        "--s1sr-force",
        action="store_true",
        default=False,
        help="replace the reports in --s1sr-results even when they are of a run of other settings",
    )
    group.addoption(
        "--s1sr-journal",
        default=None,
        help="file to write the run's journal into (default: beside --s1sr-results; without it, none, or a "
        "temporary one on pytest-xdist workers)",
    )
    group.addoption("--s1sr-shard", default=None, metavar="K/N", help="run only part K of N of the scenarios")
    group.addoption(
        "--s1sr-pool",
        default=None,
        metavar="FILE",
        help="lab rigs (TOML of [[rig]]: url, dmc, optional name and token) for the remote adapter: each scenario "
        "leases one rig of its DMC",
    )
    group.addoption(
        "--s1sr-waivers",
        default=None,
        metavar="FILE",
        help="deviation register (TOML of [[waiver]]): failures and errors it covers, while live, are reported waived",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Check the options, load the catalogue and the shipped steps."""
    remember_step_lookups()  # a third of a run was pytest-bdd matching each step against every definition
    for name, help_text in (
        ("clause(id)", "S1SR clause a scenario exercises"),
        ("srv(id)", "Service Reference Variant a scenario sends"),
        ("s1sr_version(v)", "S1SR version whose behaviour a scenario describes"),
        ("modification(n)", "modification pack (@mp-312: MP312) a scenario needs in force"),
        ("fuel-electricity", "Examples for electricity meters only"),
        ("fuel-gas", "Examples for gas meters only"),
    ):
        config.addinivalue_line("markers", f"{name}: {help_text}")
    handoff = next((p for p in config.pluginmanager.get_plugins() if isinstance(p, SettingsHandoff)), None)
    if handoff is not None:  # ``s1sr run`` checked the settings, claimed the report folder, made the journal
        settings = handoff.settings
    else:
        try:
            settings = config_settings(config)
        except S1srError as exc:
            raise pytest.UsageError(exc.line()) from None
        try:
            refuse_workers_over_duis(settings, is_worker(config) or is_controller(config), "-n")
            if is_worker(config):  # the controller claimed the folder and made the journal
                settings.journal = worker_target(config)
            else:
                folder, journal = config.getoption("--s1sr-results"), config.getoption("--s1sr-journal")
                claim_reports(
                    settings,
                    Path(folder) if folder else None,
                    "--s1sr-results",
                    Path(journal) if journal else None,
                    "--s1sr-journal",
                    force=bool(config.getoption("--s1sr-force")),
                    force_option="--s1sr-force",
                )
                config.stash[_OWN_CLAIM] = True
            settings.start_target()  # the response listener, before anything runs
        except S1srError as exc:
            if settings.report_claim is not None and config.stash.get(_OWN_CLAIM, False):
                settings.report_claim.release()
            raise pytest.UsageError(exc.line()) from None
    if settings.journal is None and is_controller(config):  # the workers' lines meet in a journal, always
        try:
            settings.journal = start_journal(None, None)
        except S1srError as exc:
            raise pytest.UsageError(exc.line()) from None
    ACTIVE.append(settings)
    config.stash[SETTINGS_KEY] = settings
    open_journal(config, settings)
    writer = config.stash.get(JOURNAL_KEY, None)
    if writer is not None and not is_worker(config):  # the process that publishes: what the record carries
        writer.append("record", record_facts(settings.record))
    config.pluginmanager.register(OutcomeOnReport(), "s1sr-outcome-on-report")
    for module in _step_modules(steps_dir()):
        if not config.pluginmanager.is_registered(module):
            config.pluginmanager.register(module, module.__name__)


def pytest_unconfigure(config: pytest.Config) -> None:
    """Forget this run's settings; stop a DUIS target; close its journal; release the report folder if claimed here."""
    writer = config.stash.get(JOURNAL_KEY, None)
    if writer is not None:
        writer.close()
    settings = config.stash.get(SETTINGS_KEY, None)
    if settings is not None:
        settings.stop_target()
    if settings is not None and settings in ACTIVE:
        ACTIVE.remove(settings)
    if settings is not None and config.stash.get(_OWN_CLAIM, False) and settings.report_claim is not None:
        settings.report_claim.release()
    if settings is not None and settings.journal is not None and settings.journal.temporary and not is_worker(config):
        settings.journal.path.unlink(missing_ok=True)


_OWN_CLAIM = pytest.StashKey[bool]()


#: The ``user_properties`` name of a scenario example's outcome on its teardown report.
OUTCOME_PROPERTY = "s1sr_outcome"


class OutcomeOnReport:
    """Puts each scenario example's outcome on its teardown report, as ``(OUTCOME_PROPERTY, outcome)``.

    pytest-xdist sends reports, not items, to its controller: with the outcome on the report, ``s1sr run``'s
    live tally counts failures and errors as they happen, on workers as in one process.
    """

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
        """Outermost, so the verdict hook has decided the outcome when this reads it."""
        report: pytest.TestReport = yield
        result = item.stash.get(RESULT_KEY, None)
        if report.when == "teardown" and result is not None:
            report.user_properties.append((OUTCOME_PROPERTY, result.outcome))
        return report


class SettingsHandoff:
    """Settings that ``s1sr run`` checked (and whose report folder it claimed) before starting pytest.

    Passed to ``pytest.main`` as a plugin object, so the plugin uses them instead of building
    and claiming again in the same process.
    """

    def __init__(self, settings: RunSettings) -> None:
        self.settings = settings


def config_settings(config: pytest.Config) -> RunSettings:
    """The run settings from the plugin's options (checked as ``s1sr run`` checks them)."""
    waivers = config.getoption("--s1sr-waivers")
    # Only the process that renders judges waivers; a pytest-xdist worker leaves the file to its controller.
    register = load_waivers(Path(waivers)) if waivers and not is_worker(config) else None
    settings = build_settings(
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
        shard=config.getoption("--s1sr-shard"),
        shard_option="--s1sr-shard",
        check_feature_files=not is_worker(config),
        target=config.getoption("--s1sr-target"),
        duis={name: config.getoption(f"--s1sr-{option}") for name, option in DUIS_OPTIONS.items()},
        option_prefix="--s1sr-",
        pool=config.getoption("--s1sr-pool"),
    )
    settings.record.use_waivers(register)
    return settings


def refuse_workers_over_duis(settings: RunSettings, on_workers: bool, option: str = "--workers") -> None:
    """A DUIS target runs in one process: ConfigError (naming ``option``) when worker processes would share it.

    The endpoint requires strictly rising counters per originator: worker processes, each with
    counters of its own, would replay each other's; and each would need the one response listener.
    """
    if on_workers and settings.target == DUIS:
        raise ConfigError(
            "the DUIS target runs in one process: the endpoint requires strictly rising counters per User, "
            "and worker processes would replay each other's",
            option,
            "leave it out",
        )


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say once which S1SR version, DMCs and schema the run uses."""
    settings = config.stash.get(SETTINGS_KEY, None)
    if settings is None:
        return []
    if settings.target_class is not None:
        under_test = f"target {settings.record.s1sp}, estate through adapter {settings.adapter}"
    else:
        under_test = f"signing with {settings.credentials.source}"
    return [
        f"s1sr: S1SR {settings.version}, DMCs {', '.join(settings.dmcs)}, {under_test}",
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
