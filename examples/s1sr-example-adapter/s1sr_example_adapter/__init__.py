"""An example third-party s1sr device adapter: a lab rig of Secure ESMEs on two Communications Hubs.

A real rig adapter would send each command to the rig's controller (serial line,
vendor API, ...). This one keeps the rig in memory, on top of s1sr's simulated
devices, so that the example runs anywhere; what it shows is the shape: a
``DeviceAdapter`` subclass, its options, and the entry point in ``pyproject.toml``.

It speaks as a rig of its own would, not as s1sr's simulated devices do: its HANs are
named after the rig (``rig-1/hub-1``), and a device that refuses a command says so in
the rig's words (``rig-1: meter 00-DB-...-A0 declined ActivateEmergencyCredit``). The
clause suite judges outcomes by class and HANs by the names the estate gives them, so
the rig passes every clause whose behaviour its devices meet, whatever their wording.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from s1sr.catalogue import DMC
from s1sr.devices.adapter import DEFAULT_TIMEOUT_S, DeviceAdapter, DeviceInfo
from s1sr.devices.commands import DeviceCommand, DeviceReply
from s1sr.devices.simulated import SimulatedAdapter
from s1sr.errors import ConfigError

#: What the rig's devices say when they decline a command, by command (the rig's own words).
DECLINED = {
    "ActivateEmergencyCredit": "emergency credit request declined",
    "ActivateFirmware": "image activation declined",
    "TransferFirmware": "image transfer declined, hub busy with another image",
    "AddToJoinWhitelist": "join window not accepted by the hub",
    "SetLoadLimit": "load limit setting not accepted",
}


class LabRigAdapter(DeviceAdapter):
    """Example lab rig of Secure ESMEs (option ``rig``: the rig's name, which prefixes its HAN names)."""

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
        rig = options.get("rig", "rig-1")
        if not rig or not rig.replace("-", "").isalnum():
            raise ConfigError(f"rig name '{rig}' is not letters, digits and hyphens", "--adapter-option rig")
        return cls(dmc, rig)

    def _han(self, simulated: str) -> str:
        """The rig's name for one of its HANs (the simulated estate's HANs, in order)."""
        hans = sorted({d.han for d in self._devices.devices()})
        return f"{self.rig}/hub-{hans.index(simulated) + 1}" if simulated in hans else simulated

    def reset(self) -> None:
        """Power-cycle the rig to its starting state."""
        self._devices.reset()

    def execute(self, command: DeviceCommand, timeout_s: float = DEFAULT_TIMEOUT_S) -> DeviceReply:
        """Send one command to the rig; its answer in the rig's terms."""
        self.commands_sent += 1
        reply = self._devices.execute(command, timeout_s)
        values = dict(reply.values)
        if "han" in values:
            values["han"] = self._han(str(values["han"]))
        if reply.accepted:
            return replace(reply, values=values)
        said = DECLINED.get(command.name, f"{command.name} declined")
        return DeviceReply(False, values, f"{self.rig}: device {command.device_id}: {said}")

    def snapshot(self) -> dict[str, Any]:
        """The rig's state, by device (HANs by the rig's names)."""
        found = self._devices.snapshot()
        for state in found.values():
            if "han" in state:
                state["han"] = self._han(str(state["han"]))
        return found

    def devices(self) -> list[DeviceInfo]:
        """The rig's devices, on the rig's HANs."""
        return [replace(d, han=self._han(d.han)) for d in self._devices.devices()]
