"""Adapters that break their contract (not the S1SP's fault): ``--adapter tests.broken_adapters:NAME``."""

from __future__ import annotations

from typing import Any

from s1sr.devices.adapter import DEFAULT_TIMEOUT_S
from s1sr.devices.commands import DeviceCommand
from tests.faulty_devices import _Wrapped


class EmptySnapshot(_Wrapped):
    """snapshot() answers ``{}``, as a remote rig with a broken state dump did."""

    name = "empty-snapshot"

    def snapshot(self) -> dict[str, Any]:
        return {}


class ListSnapshot(_Wrapped):
    """snapshot() answers a list instead of an object keyed by device."""

    name = "list-snapshot"

    def snapshot(self) -> Any:
        return [self.inner.snapshot()]


class ReplyIsADict(_Wrapped):
    """execute() returns the reply's JSON form instead of a DeviceReply."""

    name = "dict-reply"

    def execute(self, command: DeviceCommand, timeout_s: float = DEFAULT_TIMEOUT_S) -> Any:
        return self.inner.execute(command, timeout_s).as_dict()
