"""An adapter whose rig is unplugged: ``create`` fails, as a real rig's driver does when nothing answers."""

from __future__ import annotations

from collections.abc import Mapping

from s1sr.catalogue import DMC
from s1sr.devices.simulated import SimulatedAdapter


class Unplugged(SimulatedAdapter):
    """Fails to create, every time, with one reason."""

    name = "unplugged"

    @classmethod
    def create(cls, dmc: DMC, options: Mapping[str, str]) -> SimulatedAdapter:
        raise ConnectionError("the rig is unplugged\nsecond line of detail")
