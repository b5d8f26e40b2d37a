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
    group.addoption("--kit-adapter", default=None, help="adapter under test: name or module:attr (required)")
    group.addoption("--kit-dmc", default="secure-esme", help="DMC the adapter drives")
    group.addoption("--kit-option", action="append", default=[], help="KEY=VALUE adapter option (repeatable)")


def pytest_configure(config: pytest.Config) -> None:
    """Refuse to run without the adapter to test: the kit never tests the built-in one by default."""
    if config.getoption("--kit-adapter") is None:
        raise pytest.UsageError(
            "--kit-adapter: name the adapter to test (an installed adapter's name, or module:attr); "
            "s1sr adapters lists the installed ones"
        )


#: Why the adapter could not be created or reset, once per run: every test reports the same one line.
_BROKEN = pytest.StashKey[str]()


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
def kit_adapter(
    request: pytest.FixtureRequest, kit_adapter_name: str, kit_dmc: DMC, kit_options: dict[str, str]
) -> Iterator[DeviceAdapter]:
    """The adapter under test, created and reset; closed afterwards.

    An adapter that cannot be created or reset fails every test with one line saying why (its
    exception's type and first line), not a traceback each.
    """
    broken = request.config.stash.get(_BROKEN, None)
    if broken is not None:
        pytest.fail(broken, pytrace=False)
    adapter: DeviceAdapter | None = None
    try:
        adapter = create_adapter(kit_adapter_name, kit_dmc, kit_options)
        problem = None
    except Exception as exc:  # any failure of the adapter under test is its finding, in one line
        problem = f"adapter {kit_adapter_name} could not be created: {one_line(exc)}"
    if adapter is not None:
        try:
            adapter.reset()
        except Exception as exc:
            problem = f"adapter {kit_adapter_name} could not be reset: {one_line(exc)}"
    if problem is not None or adapter is None:  # failed outside the except: no chained traceback
        if adapter is not None:
            adapter.close()
        request.config.stash[_BROKEN] = problem or f"adapter {kit_adapter_name} could not be created"
        pytest.fail(request.config.stash[_BROKEN], pytrace=False)
    try:
        yield adapter
    finally:
        adapter.close()


def one_line(exc: BaseException) -> str:
    """``Type: first line of the message`` (the type alone for an empty message)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return type(exc).__name__ + (f": {text}" if text else "")
