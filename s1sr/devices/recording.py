"""An adapter wrapper that records every command and reply: the harness's witness of what devices received.

Steps judge the device commands from here, at the device side, so a candidate S1SP
that the harness cannot look inside is judged exactly as the reference one is. It is
also the watchdog: a command whose adapter has not returned within its timeout (plus
a grace period for the adapter to report the timeout itself) is a DeviceTimeout,
whether or not the adapter honours ``timeout_s``, so no scenario can hang.
"""

from __future__ import annotations

import threading
from typing import Any

from s1sr.devices.adapter import DEFAULT_TIMEOUT_S, DeviceAdapter, DeviceInfo, DeviceTimeout
from s1sr.devices.commands import DeviceCommand, DeviceReply

#: Seconds an adapter has, beyond a command's timeout, to report that timeout itself.
WATCHDOG_GRACE_S = 2.0


class RecordingAdapter(DeviceAdapter):
    """Passes everything to ``inner`` and keeps a log of (command, reply) pairs."""

    def __init__(self, inner: DeviceAdapter) -> None:
        self.inner = inner
        self.name = inner.name
        self.log: list[tuple[DeviceCommand, DeviceReply]] = []

    def reset(self) -> None:
        """Reset the devices (the log is kept: it is evidence)."""
        self.inner.reset()

    def execute(self, command: DeviceCommand, timeout_s: float = DEFAULT_TIMEOUT_S) -> DeviceReply:
        """Execute (bounded in time) and record."""
        outcome: list[DeviceReply | BaseException] = []

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
        self.log.append((command, result))
        return result

    def snapshot(self) -> dict[str, Any]:
        """The inner adapter's snapshot."""
        return self.inner.snapshot()

    def devices(self) -> list[DeviceInfo]:
        """The inner adapter's devices."""
        return self.inner.devices()

    def close(self) -> None:
        """Close the inner adapter."""
        self.inner.close()
