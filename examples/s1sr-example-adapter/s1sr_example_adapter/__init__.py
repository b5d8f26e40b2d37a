"""An example third-party s1sr device adapter: a lab rig holding one Secure ESME.

A real rig adapter would send each command to the rig's controller (serial line,
vendor API, ...). This one keeps the rig in memory, on top of s1sr's simulated
devices, so that the example runs anywhere; what it shows is the shape: a
``DeviceAdapter`` subclass, its options, and the entry point in ``pyproject.toml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from s1sr.catalogue import DMC
from s1sr.devices.adapter import DEFAULT_TIMEOUT_S, DeviceAdapter, DeviceInfo
from s1sr.devices.commands import DeviceCommand, DeviceReply
from s1sr.devices.simulated import SimulatedAdapter
from s1sr.errors import ConfigError


class LabRigAdapter(DeviceAdapter):
    """Example lab rig with one Secure ESME (option ``rig``: the rig's name)."""

    name = "example-lab"
    device_models = ("secure-esme",)

    def __init__(self, dmc: DMC, rig: str = "rig-1") -> None:
        self.rig = rig
        self._devices = SimulatedAdapter(dmc)
        self.commands_sent = 0

    @classmethod
    def create(cls, dmc: DMC, options: Mapping[str, str]) -> LabRigAdapter:
        """Options: ``rig`` (default rig-1)."""
        unknown = set(options) - {"rig"}
        if unknown:
            raise ConfigError(f"example-lab has no option {', '.join(sorted(unknown))}", "--adapter-option")
        return cls(dmc, options.get("rig", "rig-1"))

    def reset(self) -> None:
        """Power-cycle the rig to its starting state."""
        self._devices.reset()

    def execute(self, command: DeviceCommand, timeout_s: float = DEFAULT_TIMEOUT_S) -> DeviceReply:
        """Send one command to the rig."""
        self.commands_sent += 1
        return self._devices.execute(command, timeout_s)

    def snapshot(self) -> dict[str, Any]:
        """The rig's state, by device."""
        return self._devices.snapshot()

    def devices(self) -> list[DeviceInfo]:
        """The rig's devices."""
        return self._devices.devices()
