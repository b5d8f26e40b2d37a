"""The device adapter interface: what the harness needs of any Secure device, simulated or real.

An adapter drives one estate (Communications Hubs and the devices joined to
them). The S1SP sends it :class:`DeviceCommand` objects and reads
:class:`DeviceReply` objects back; steps take :meth:`DeviceAdapter.snapshot` for
evidence. An adapter that cannot get an answer raises :class:`DeviceTimeout`;
one whose device or link fails raises :class:`DeviceFault`. Either ends the
scenario as ``error``, never as a pass.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from s1sr.devices.commands import DeviceCommand, DeviceReply
from s1sr.errors import ConfigError

if TYPE_CHECKING:
    from s1sr.catalogue import DMC

DEFAULT_TIMEOUT_S = 30.0


class DeviceError(Exception):
    """A device or its link failed: the verdict is ``error``, not ``failed``."""


class DeviceTimeout(DeviceError):
    """No answer within the command's timeout."""


class DeviceFault(DeviceError):
    """The device, the adapter or the link reported a fault."""


class AdapterContractError(DeviceError):
    """An adapter answered outside its contract (a malformed snapshot, an unknown device, a reply of the wrong type).

    The scenario ends as ``error`` with a message naming the adapter: the rig is at
    fault, never the S1SP under test.
    """


@dataclass(frozen=True)
class DeviceInfo:
    """One device of the estate: its EUI-64, model, type and the HAN (Communications Hub) it is on."""

    device_id: str
    device_model: str
    device_type: str
    han: str


class DeviceAdapter(ABC):
    """Base of every device adapter. Subclasses implement the four abstract methods.

    The harness builds an adapter with :meth:`create` once per scenario, for the DMC
    under test, and calls :meth:`reset` before the scenario's first request. A
    :meth:`snapshot` maps each device's EUI-64 to a JSON-ready dict; for meters it
    includes at least ``payment_mode`` ("credit" or "prepayment"), the one state
    that DUIS cannot read back from a GSME.
    """

    #: Name under which the adapter is registered (``--adapter NAME``).
    name: str = ""
    #: Device model ids (catalogue) this adapter can drive; empty means any.
    device_models: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def create(cls, dmc: DMC, options: Mapping[str, str]) -> DeviceAdapter:
        """Build the adapter for ``dmc`` from ``--adapter-option KEY=VALUE`` pairs.

        The default takes no options and calls ``cls(dmc)``; override to accept options.
        """
        if options:
            raise ConfigError(
                f"adapter '{cls.name}' takes no options (got {', '.join(sorted(options))})", "--adapter-option"
            )
        return cls(dmc)  # type: ignore[call-arg]

    @abstractmethod
    def reset(self) -> None:
        """Return every device of the estate to its known starting state."""

    @abstractmethod
    def execute(self, command: DeviceCommand, timeout_s: float = DEFAULT_TIMEOUT_S) -> DeviceReply:
        """Send one command and return the device's reply, or raise :class:`DeviceError`."""

    @abstractmethod
    def snapshot(self) -> dict[str, Any]:
        """The state of every device, JSON-ready, for evidence and for state the DUIS reads do not carry."""

    @abstractmethod
    def devices(self) -> list[DeviceInfo]:
        """The devices of the estate."""

    def close(self) -> None:  # noqa: B027 - optional hook, most adapters hold nothing
        """Release connections; the default holds none."""
