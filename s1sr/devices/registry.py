"""Device adapters by name: built-in, entry-point group ``s1sr.adapters``, or ``module:attr``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from s1sr.catalogue import DMC
from s1sr.devices.adapter import DeviceAdapter
from s1sr.errors import ConfigError
from s1sr.loading import Found, load, registered

GROUP = "s1sr.adapters"
BUILT_IN = {
    "simulated": "s1sr.devices.simulated:SimulatedAdapter",
    "remote": "s1sr.devices.remote:RemoteAdapter",
}


@dataclass(frozen=True)
class AdapterInfo:
    """What ``s1sr adapters`` lists."""

    name: str
    device_models: tuple[str, ...]
    source: str
    description: str


def adapter_class(name: str) -> type[DeviceAdapter]:
    """The adapter class registered as ``name``."""
    found = load(name, GROUP, BUILT_IN, "--adapter")
    return _check(found)


def _check(found: Found) -> type[DeviceAdapter]:
    obj = found.obj
    if not (isinstance(obj, type) and issubclass(obj, DeviceAdapter)):
        raise ConfigError(
            f"'{found.name}' ({found.source}) is not a DeviceAdapter subclass",
            "--adapter",
            "subclass s1sr.devices.adapter.DeviceAdapter",
        )
    return obj


def create_adapter(name: str, dmc: DMC, options: Mapping[str, str]) -> DeviceAdapter:
    """Build adapter ``name`` for ``dmc``; refuses a DMC whose meter model the adapter cannot drive."""
    cls = adapter_class(name)
    if cls.device_models and dmc.meter.id not in cls.device_models:
        raise ConfigError(
            f"adapter '{name}' drives {', '.join(cls.device_models)}, not {dmc.meter.id}",
            "--dmc",
            "choose a DMC the adapter supports",
        )
    return cls.create(dmc, options)


def available_adapters() -> list[AdapterInfo]:
    """Every adapter that can be named."""
    infos = []
    for found in registered(GROUP, BUILT_IN, "--adapter"):
        cls = _check(found)
        doc = (cls.__doc__ or "").strip().splitlines()
        infos.append(AdapterInfo(found.name, tuple(cls.device_models), found.source, doc[0] if doc else ""))
    return infos
