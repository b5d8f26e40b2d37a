"""The clause catalogue: S1SR clauses per version, Annex C defaults, device models and DMCs, as data.

Each S1SR version is one TOML file in ``data/``; device models and Device Model
Combinations are in ``data/device-models.toml``. Code reads the catalogue; it
never branches on a version number.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

from s1sr.errors import ConfigError

PROVENANCES = ("consultation", "interpretation")
DEFAULT_VERSION = "4.3"


@dataclass(frozen=True)
class Clause:
    """One S1SR clause as this project reads it."""

    id: str
    title: str
    srvs: tuple[str, ...]
    provenance: str
    detail_provenance: str
    device_models: tuple[str, ...]
    reading: str
    parameters: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    former_id: str | None = None

    def applies_to(self, device_model: str) -> bool:
        """Whether Annex A (DMVES) maps this clause to ``device_model``."""
        return device_model in self.device_models


@dataclass(frozen=True)
class AnnexCDefault:
    """A value the S1SP appends to a Secure command when the DUIS request does not carry it."""

    srv: str
    command: str
    field: str
    value: Any
    unit: str
    provenance: str


@dataclass(frozen=True)
class DeviceModel:
    """A Secure device model (the DMVES columns the harness needs)."""

    id: str
    device_type: str
    fuel: str
    manufacturer: str
    model: str
    firmware_version: str
    prepayment: bool
    load_limiting: bool


@dataclass(frozen=True)
class DMC:
    """A Device Model Combination: a meter model behind a Communications Hub model."""

    id: str
    meter: DeviceModel
    comms_hub: DeviceModel
    default: bool


@dataclass(frozen=True)
class Catalogue:
    """Everything the harness knows of one S1SR version."""

    version: str
    status: str
    clauses: tuple[Clause, ...]
    annex_c: tuple[AnnexCDefault, ...]

    def clause(self, clause_id: str) -> Clause | None:
        """The clause with this id, or None when this version does not have it."""
        return next((c for c in self.clauses if c.id == clause_id), None)

    def parameter(self, name: str, default: Any = None) -> Any:
        """A rule parameter from whichever clause sets it (e.g. ``join_rounding``)."""
        for clause in self.clauses:
            if name in clause.parameters:
                return clause.parameters[name]
        return default


def _data(name: str) -> dict[str, Any]:
    text = resources.files("s1sr.catalogue").joinpath("data", name).read_text(encoding="utf-8")
    return tomllib.loads(text)


def versions() -> list[str]:
    """The S1SR versions that have a catalogue, oldest first."""
    names = [p.name for p in resources.files("s1sr.catalogue").joinpath("data").iterdir()]
    found = [n.removeprefix("s1sr-").removesuffix(".toml") for n in names if n.startswith("s1sr-")]
    return sorted(found, key=lambda v: tuple(int(p) for p in v.split(".")))


def _require(entry: dict[str, Any], key: str, where: str) -> Any:
    if key not in entry:
        raise ConfigError(f"catalogue entry has no '{key}'", where, "add it to the catalogue file")
    return entry[key]


@cache
def load_catalogue(version: str = DEFAULT_VERSION) -> Catalogue:
    """Load the catalogue of one S1SR version; :class:`ConfigError` names the known ones."""
    known = versions()
    if version not in known:
        raise ConfigError(
            f"no catalogue for S1SR version '{version}'",
            "--s1sr-version",
            f"choose one of {', '.join(known)}",
        )
    where = f"catalogue s1sr-{version}.toml"
    data = _data(f"s1sr-{version}.toml")
    models = device_models()
    clauses = []
    for entry in data.get("clause", []):
        cid = _require(entry, "id", where)
        for key in ("provenance", "detail_provenance"):
            if entry.get(key) not in PROVENANCES:
                raise ConfigError(f"clause {cid} {key} must be one of {PROVENANCES}", where)
        for model in entry.get("device_models", []):
            if model not in models:
                raise ConfigError(f"clause {cid} names unknown device model '{model}'", where)
        clauses.append(
            Clause(
                id=cid,
                title=_require(entry, "title", where),
                srvs=tuple(entry.get("srvs", [])),
                provenance=entry["provenance"],
                detail_provenance=entry["detail_provenance"],
                device_models=tuple(entry.get("device_models", [])),
                reading=" ".join(_require(entry, "reading", where).split()),
                parameters=dict(entry.get("parameters", {})),
                former_id=entry.get("former_id"),
            )
        )
    annex = tuple(
        AnnexCDefault(
            srv=str(_require(e, "srv", where)),
            command=_require(e, "command", where),
            field=_require(e, "field", where),
            value=_require(e, "value", where),
            unit=e.get("unit", ""),
            provenance=e.get("provenance", "interpretation"),
        )
        for e in data.get("annex_c", [])
    )
    return Catalogue(version, data.get("status", ""), tuple(clauses), annex)


@cache
def device_models() -> dict[str, DeviceModel]:
    """All device models, by id."""
    return {
        e["id"]: DeviceModel(
            id=e["id"],
            device_type=e["device_type"],
            fuel=e["fuel"],
            manufacturer=e["manufacturer"],
            model=e["model"],
            firmware_version=e["firmware_version"],
            prepayment=bool(e["prepayment"]),
            load_limiting=bool(e["load_limiting"]),
        )
        for e in _data("device-models.toml").get("device_model", [])
    }


@cache
def dmcs() -> dict[str, DMC]:
    """All Device Model Combinations, by id."""
    models = device_models()
    return {
        e["id"]: DMC(e["id"], models[e["meter"]], models[e["comms_hub"]], bool(e.get("default", False)))
        for e in _data("device-models.toml").get("dmc", [])
    }


def find_dmc(name: str) -> DMC:
    """The DMC called ``name``; :class:`ConfigError` lists the known ones."""
    known = dmcs()
    if name not in known:
        raise ConfigError(f"unknown DMC '{name}'", "--dmc", f"choose one of {', '.join(known)}")
    return known[name]


def default_dmcs() -> list[str]:
    """The DMCs a run uses when none is named."""
    return [d.id for d in dmcs().values() if d.default]
