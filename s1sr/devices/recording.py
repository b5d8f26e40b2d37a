"""An adapter wrapper that records every command and reply: the harness's witness of what devices received.

Steps judge the device commands from here, at the device side, so a candidate S1SP
that the harness cannot look inside is judged exactly as the reference one is. It is
also the watchdog: a command whose adapter has not returned within its timeout (plus
a grace period for the adapter to report the timeout itself) is a DeviceTimeout,
whether or not the adapter honours ``timeout_s``, so no scenario can hang. The watchdog
runs the command on a thread of its own, which costs about 0.1 ms a command: the built-in
simulated adapter, which runs in this process and returns within ``timeout_s`` itself
(its injected faults included), is called directly instead; every other adapter (remote,
third-party, and subclasses of the simulated one, which may do anything) is watched.
"""

from __future__ import annotations

import threading
from typing import Any

from s1sr.devices.adapter import DEFAULT_TIMEOUT_S, AdapterContractError, DeviceAdapter, DeviceInfo, DeviceTimeout
from s1sr.devices.commands import DeviceCommand, DeviceReply
from s1sr.devices.simulated import SimulatedAdapter

#: Seconds an adapter has, beyond a command's timeout, to report that timeout itself.
WATCHDOG_GRACE_S = 2.0
#: Adapters (exactly these classes) that return within a command's timeout by themselves: no watchdog thread.
SELF_BOUNDED: tuple[type[DeviceAdapter], ...] = (SimulatedAdapter,)


class RecordingAdapter(DeviceAdapter):
    """Passes everything to ``inner``, keeps a log of (command, reply) pairs, and holds it to its contract.

    What the inner adapter answers is checked here, once, for every adapter alike: a
    reply that is not a :class:`DeviceReply`, a device list that is not
    :class:`DeviceInfo` objects, or a snapshot that is not a JSON object holding
    every listed device raises :class:`AdapterContractError` naming the adapter.
    """

    def __init__(self, inner: DeviceAdapter) -> None:
        self.inner = inner
        self.name = inner.name
        self.log: list[tuple[DeviceCommand, DeviceReply]] = []
        self._devices: list[DeviceInfo] | None = None

    def _broken(self, what: str) -> AdapterContractError:
        return AdapterContractError(f"adapter '{self.name}' broke its contract: {what}")

    def reset(self) -> None:
        """Reset the devices (the log is kept: it is evidence)."""
        self._devices = None
        self.inner.reset()

    def execute(self, command: DeviceCommand, timeout_s: float = DEFAULT_TIMEOUT_S) -> DeviceReply:
        """Execute (bounded in time) and record."""
        if type(self.inner) in SELF_BOUNDED:
            result: object = self.inner.execute(command, timeout_s)
        else:
            result = self._watched(command, timeout_s)
        if not isinstance(result, DeviceReply):
            raise self._broken(f"{command.name} returned {type(result).__name__}, not a DeviceReply")
        self.log.append((command, result))
        return result

    def _watched(self, command: DeviceCommand, timeout_s: float) -> object:
        """The inner adapter's answer to ``command``, on a thread the caller waits for at most the timeout and grace."""
        outcome: list[object] = []

        def call() -> None:
            try:
                outcome.append(self.inner.execute(command, timeout_s))
            except BaseException as exc:  # handed to the caller's thread below
                outcome.append(exc)

        worker = threading.Thread(target=call, name=f"s1sr-{command.name}", daemon=True)
        worker.start()
        worker.join(timeout_s + WATCHDOG_GRACE_S)
        if not outcome:
            raise DeviceTimeout(
                f"adapter '{self.name}' did not return from {command.name} to {command.device_id} "
                f"within {timeout_s + WATCHDOG_GRACE_S:g} s"
            )
        result = outcome[0]
        if isinstance(result, BaseException):
            raise result
        return result

    def snapshot(self) -> dict[str, Any]:
        """The inner adapter's snapshot: a JSON object with an object for every listed device."""
        snapshot = self.inner.snapshot()
        if not isinstance(snapshot, dict):
            raise self._broken(f"snapshot() returned {type(snapshot).__name__}, not an object keyed by device")
        missing = [d.device_id for d in self.devices() if d.device_id not in snapshot]
        if missing:
            raise self._broken(f"its snapshot has no entry for listed device(s) {', '.join(missing)}")
        for device_id, state in snapshot.items():
            if not isinstance(state, dict):
                raise self._broken(f"its snapshot of {device_id} is {type(state).__name__}, not an object")
        return snapshot

    def devices(self) -> list[DeviceInfo]:
        """The inner adapter's devices (asked once per reset: an estate does not change under a scenario)."""
        if self._devices is None:
            listed = self.inner.devices()
            if not isinstance(listed, list) or not all(isinstance(d, DeviceInfo) for d in listed):
                raise self._broken("devices() did not return a list of DeviceInfo")
            self._devices = list(listed)
        return list(self._devices)

    def device(self, device_id: str) -> DeviceInfo:
        """The listed device ``device_id``; :class:`AdapterContractError` when the adapter does not list it."""
        for info in self.devices():
            if info.device_id == device_id:
                return info
        raise self._broken(f"it does not list device {device_id}")

    def first(self, *device_types: str, han: str | None = None) -> DeviceInfo:
        """The first listed device of one of ``device_types`` (on ``han`` when given); a contract error if none."""
        for info in self.devices():
            if info.device_type in device_types and (han is None or info.han == han):
                return info
        where = f" on {han}" if han else ""
        raise self._broken(f"it lists no {' or '.join(device_types)}{where}")

    def close(self) -> None:
        """Close the inner adapter."""
        self.inner.close()
