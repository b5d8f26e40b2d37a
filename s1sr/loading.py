"""Find pluggable parts (device adapters, S1SPs) by name: built-in, entry point, or ``module:attr``."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from s1sr.errors import ConfigError


@dataclass(frozen=True)
class Found:
    """A loaded plug-in and where it came from."""

    name: str
    obj: Any
    source: str


def load(name: str, group: str, built_in: dict[str, str], option: str) -> Found:
    """Resolve ``name``: a built-in, an entry point of ``group``, or ``package.module:attr``.

    Raises :class:`ConfigError` naming what could not be loaded and why.
    """
    if name in built_in:
        return Found(name, _import(built_in[name], name, option), "built-in")
    for ep in entry_points(group=group):
        if ep.name == name:
            try:
                return Found(name, ep.load(), f"entry point {ep.value} ({group})")
            except Exception as exc:  # a third-party package failing to import is a configuration problem
                raise ConfigError(
                    f"'{name}' is registered ({ep.value}) but does not load: {type(exc).__name__}: {exc}",
                    option,
                    "check that package's installation",
                ) from None
    if ":" in name:
        return Found(name, _import(name, name, option), "module:attr")
    known = sorted({*built_in, *(ep.name for ep in entry_points(group=group))})
    raise ConfigError(f"no '{name}' found", option, f"choose one of {', '.join(known)} or give module:attr")


def _import(spec: str, name: str, option: str) -> Any:
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        raise ConfigError(
            f"cannot import module '{module_name}' for '{name}': {type(exc).__name__}: {exc}", option
        ) from None
    target: Any = module
    for part in attr.split(".") if attr else []:
        if not hasattr(target, part):
            raise ConfigError(f"module '{module_name}' has no attribute '{attr}'", option)
        target = getattr(target, part)
    return target


def registered(group: str, built_in: dict[str, str], option: str) -> list[Found]:
    """Every built-in and entry-point plug-in of ``group``, loaded (failures reported as ConfigError)."""
    names = list(built_in) + sorted({ep.name for ep in entry_points(group=group)} - set(built_in))
    return [load(n, group, built_in, option) for n in names]
