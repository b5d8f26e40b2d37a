"""An adapter wrapper that records every command and reply: the harness's witness of what devices received.

Steps judge the device commands from here, at the device side, so a candidate S1SP
that the harness cannot look inside is judged exactly as the reference one is.
"""

from __future__ import annotations

from typing import Any

from s1sr.devices.adapter import DEFAULT_TIMEOUT_S, DeviceAdapter, DeviceInfo
from s1sr.devices.commands import DeviceCommand, DeviceReply


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
        """Execute and record."""
        reply = self.inner.execute(command, timeout_s)
        self.log.append((command, reply))
        return reply

    def snapshot(self) -> dict[str, Any]:
        """The inner adapter's snapshot."""
        return self.inner.snapshot()

    def devices(self) -> list[DeviceInfo]:
        """The inner adapter's devices."""
        return self.inner.devices()

    def close(self) -> None:
        """Close the inner adapter."""
        self.inner.close()
