"""Adapters that break their contract (not the S1SP's fault): ``--adapter tests.broken_adapters:NAME``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from s1sr.catalogue import DMC
from s1sr.devices.adapter import DEFAULT_TIMEOUT_S, DeviceAdapter, DeviceInfo
from s1sr.devices.commands import DeviceCommand, DeviceReply
from s1sr.devices.simulated import SimulatedAdapter


class _Wrapped(DeviceAdapter):
    def __init__(self, dmc: DMC) -> None:
        self.inner = SimulatedAdapter(dmc)

    @classmethod
    def create(cls, dmc: DMC, options: Mapping[str, str]) -> DeviceAdapter:
        return cls(dmc)

    def reset(self) -> None:
        self.inner.reset()

    def execute(self, command: DeviceCommand, timeout_s: float = DEFAULT_TIMEOUT_S) -> DeviceReply:
        return self.inner.execute(command, timeout_s)

    def snapshot(self) -> dict[str, Any]:
        return self.inner.snapshot()

    def devices(self) -> list[DeviceInfo]:
        return self.inner.devices()


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
