"""The fixtures the steps use: the run settings, the estate under test, the S1SP under test, the User."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from s1sr.catalogue import find_dmc
from s1sr.devices.recording import RecordingAdapter
from s1sr.devices.registry import create_adapter
from s1sr.plugin.keys import SESSION_KEY
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
def s1sp_clock() -> ManualClock:
    """The scenario's clock, which the S1SP under test keeps time by in process (steps move it)."""
    return ManualClock()


@pytest.fixture
def s1sp(
    s1sr_settings: RunSettings, s1sr_dmc: str, device_adapter: RecordingAdapter, s1sp_clock: ManualClock
) -> S1SP:
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
    )
    request.node.stash[SESSION_KEY] = session
    return session
