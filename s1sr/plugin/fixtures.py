"""The fixtures the steps use: the run settings, the estate under test, the S1SP under test, the User."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

import pytest

from s1sr.catalogue import find_dmc
from s1sr.devices.pool import RigPool, RigUnavailable
from s1sr.devices.recording import RecordingAdapter
from s1sr.devices.registry import create_adapter
from s1sr.plugin.keys import RESULT_KEY, SESSION_KEY
from s1sr.plugin.settings import RunSettings, settings_of
from s1sr.s1sp.api import S1SP
from s1sr.s1sp.clock import ManualClock
from s1sr.s1sp.registry import s1sp_class
from s1sr.session import UserSession


@pytest.fixture
def s1sr_settings(request: pytest.FixtureRequest) -> RunSettings:
    """The run settings."""
    return settings_of(request.config)


@pytest.fixture
def device_adapter(
    request: pytest.FixtureRequest, s1sr_settings: RunSettings, s1sr_dmc: str
) -> Iterator[RecordingAdapter]:
    """The estate under test, in its starting state, with every command it receives recorded.

    With a pool of rigs, the estate is a rig of the DMC leased for this scenario alone, and let go
    when it ends (:mod:`s1sr.devices.pool`); no rig left, the scenario is ``not run``.
    """
    if s1sr_settings.pool is not None:
        yield from _leased(request, s1sr_settings, s1sr_settings.pool, s1sr_dmc)
        return
    inner = create_adapter(s1sr_settings.adapter, find_dmc(s1sr_dmc), s1sr_settings.adapter_options)
    adapter = RecordingAdapter(inner)
    try:
        adapter.reset()
        yield adapter
    finally:
        adapter.close()


def _leased(
    request: pytest.FixtureRequest, settings: RunSettings, pool: RigPool, dmc: str
) -> Iterator[RecordingAdapter]:
    """A rig of ``dmc`` leased from the pool for this scenario; the record names it."""
    result = request.node.stash.get(RESULT_KEY, None)
    run = settings.journal.run if settings.journal is not None else None
    try:
        with pool.lease(
            dmc, settings.adapter_options, run=run, worker=_worker_number(request.config), log=_log(request.config)
        ) as leased:
            if result is not None:
                result.rig = leased.rig.name
            try:
                yield leased.adapter
            finally:
                if leased.lost and result is not None and result.outcome != "error":
                    # The rig broke under the scenario: whatever the S1SP made of that, nothing was judged.
                    result.outcome = "error"
                    result.reason = f"device error: rig {leased.rig.label()} left the pool: {leased.lost}"
    except RigUnavailable as exc:  # raised before the scenario began (pytest never throws into a fixture)
        pytest.skip(str(exc))  # selected but not reached: not run


def _worker_number(config: pytest.Config) -> int:
    """This process's pytest-xdist worker number (``gw3``: 3), 0 without workers."""
    worker = str(getattr(config, "workerinput", {}).get("workerid", ""))
    number = worker.removeprefix("gw")
    return int(number) if number.isdecimal() else 0


def _log(config: pytest.Config) -> Callable[[str], None]:
    """Where a rig's leaving is told: standard error, past pytest's capture, as it happens (workers' too)."""

    def log(line: str) -> None:
        capture = config.pluginmanager.getplugin("capturemanager")
        with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
            sys.stderr.write(f"s1sr: {line}\n")
            sys.stderr.flush()

    return log


@pytest.fixture
def s1sp_clock() -> ManualClock:
    """The scenario's clock, which the S1SP under test keeps time by in process (steps move it)."""
    return ManualClock()


@pytest.fixture
def s1sp(s1sr_settings: RunSettings, s1sr_dmc: str, device_adapter: RecordingAdapter, s1sp_clock: ManualClock) -> S1SP:
    """The S1SP under test, configured for the run's S1SR version and this DMC, keeping the scenario's time.

    Over DUIS it is the run's target, sharing one client and response listener for the whole
    run (stopped when the run ends, :func:`s1sr.plugin.options.pytest_unconfigure`).
    """
    found = s1sr_settings.target_class or s1sp_class(s1sr_settings.s1sp)
    created = found.create(
        s1sr_settings.s1sp_catalogue or s1sr_settings.catalogue,
        find_dmc(s1sr_dmc),
        device_adapter,
        s1sr_settings.credentials,
        s1sr_settings.timeout_s,
    )
    created.use_clock(s1sp_clock)
    return created


@pytest.fixture
def user(
    request: pytest.FixtureRequest,
    s1sr_settings: RunSettings,
    s1sr_dmc: str,
    s1sp: S1SP,
    device_adapter: RecordingAdapter,
) -> UserSession:
    """The DCC User's session; its evidence is attached to the scenario's result."""
    earlier, reads = s1sr_settings.earlier_reads, None
    if earlier is not None:  # behind DUIS with a cache in force: the scenario's reads, by its id
        result = request.node.stash.get(RESULT_KEY, None)
        reads = earlier.scenario(result.id if result is not None else request.node.nodeid)
    session = UserSession(
        s1sp,
        device_adapter,
        find_dmc(s1sr_dmc),
        s1sr_settings.credentials,
        s1sr_settings.schema,
        s1sr_settings.counts,
        counters=s1sr_settings.counters,
        s1sp_certificates=s1sr_settings.s1sp_certificates,
        observes=s1sr_settings.observes,
        catalogue=s1sr_settings.catalogue,
        earlier_reads=reads,
    )
    request.node.stash[SESSION_KEY] = session
    return session
