"""A deliberately wrong S1SP to serve over DUIS (``s1sr serve-s1sp --s1sp tests.duis_wrong:PennyHighS1SP``).

It is the reference S1SP, except that every meter balance it reads from a device it reports
one penny high: a plausible off-by-one in a real S1SP's pence conversion, visible to a User
only through the values of SRV 4.18 and 4.3 reads.
"""

from __future__ import annotations

from typing import Any

from s1sr.catalogue import DMC, Catalogue
from s1sr.devices.adapter import DEFAULT_TIMEOUT_S, DeviceAdapter, DeviceInfo
from s1sr.devices.commands import DeviceCommand, DeviceReply
from s1sr.duis.signing import Credentials
from s1sr.s1sp.translator import ReferenceS1SP


class _PennyHigh(DeviceAdapter):
    """The S1SP's view of the estate: every meter balance read one penny above the device's."""

    def __init__(self, inner: DeviceAdapter) -> None:
        self.inner = inner
        self.name = inner.name

    def reset(self) -> None:
        """The estate's reset."""
        self.inner.reset()

    def execute(self, command: DeviceCommand, timeout_s: float = DEFAULT_TIMEOUT_S) -> DeviceReply:
        """The device's reply, its ``meter_balance_pence`` one higher."""
        reply = self.inner.execute(command, timeout_s)
        if "meter_balance_pence" not in reply.values:
            return reply
        values = {**reply.values, "meter_balance_pence": reply.values["meter_balance_pence"] + 1}
        return DeviceReply(reply.accepted, values, reply.reason)

    def snapshot(self) -> dict[str, Any]:
        """The estate's snapshot, as it is."""
        return self.inner.snapshot()

    def devices(self) -> list[DeviceInfo]:
        """The estate's devices."""
        return self.inner.devices()

    def close(self) -> None:
        """Close the estate's adapter."""
        self.inner.close()


class PennyHighS1SP(ReferenceS1SP):
    """The reference S1SP reporting every meter balance one penny high."""

    name = "penny-high"

    @classmethod
    def create(
        cls, catalogue: Catalogue, dmc: DMC, adapter: DeviceAdapter, credentials: Credentials, timeout_s: float
    ) -> PennyHighS1SP:
        """The wrong S1SP over ``adapter``."""
        return cls(catalogue, dmc, _PennyHigh(adapter), timeout_s, credentials)
