"""Conformance kit for device adapters: prove that an adapter honours the interface the harness relies on.

Run the ready test module against your adapter (installed, or named as ``module:attr``)::

    pytest -p s1sr.testing --pyargs s1sr.testing.test_adapter_kit \\
        --kit-adapter NAME --kit-dmc DMC [--kit-option KEY=VALUE ...]

or use the ``kit_adapter`` fixture in tests of your own. The kit checks: the estate is
listed, snapshots are JSON and cover every device, ``reset`` restores the starting
state, every command of :data:`s1sr.devices.commands.COMMANDS` gets a reply, an unknown
device or command is reported as a :class:`~s1sr.devices.adapter.DeviceError` or a
refusal (never another exception), commands answer within their timeout, and
``create`` refuses options it does not know.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from s1sr.catalogue import DMC, find_dmc
from s1sr.devices.adapter import DeviceAdapter
from s1sr.devices.registry import create_adapter


def pytest_addoption(parser: pytest.Parser) -> None:
    """The kit's options."""
    group = parser.getgroup("s1sr-kit", "s1sr adapter conformance kit")
    group.addoption("--kit-adapter", default="simulated", help="adapter under test: name or module:attr")
    group.addoption("--kit-dmc", default="secure-esme", help="DMC the adapter drives")
    group.addoption("--kit-option", action="append", default=[], help="KEY=VALUE adapter option (repeatable)")


@pytest.fixture
def kit_dmc(request: pytest.FixtureRequest) -> DMC:
    """The DMC under test."""
    return find_dmc(request.config.getoption("--kit-dmc"))


@pytest.fixture
def kit_adapter_name(request: pytest.FixtureRequest) -> str:
    """The adapter's name as given."""
    name: str = request.config.getoption("--kit-adapter")
    return name


@pytest.fixture
def kit_options(request: pytest.FixtureRequest) -> dict[str, str]:
    """The adapter options as given."""
    from s1sr.plugin import parse_options

    return parse_options(request.config.getoption("--kit-option"))


@pytest.fixture
def kit_adapter(kit_adapter_name: str, kit_dmc: DMC, kit_options: dict[str, str]) -> Iterator[DeviceAdapter]:
    """The adapter under test, created and reset; closed afterwards."""
    adapter = create_adapter(kit_adapter_name, kit_dmc, kit_options)
    try:
        adapter.reset()
        yield adapter
    finally:
        adapter.close()
