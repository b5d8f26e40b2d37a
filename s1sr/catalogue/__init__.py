"""The clause catalogue: S1SR clauses per version, Annex C defaults, device models and DMCs, as data.

Each S1SR version is one TOML file in ``data/``; device models and Device Model
Combinations are in ``data/device-models.toml``; the outcome classes (why a request,
or one device of it, succeeded or not, and the outcome code that carries each) are in
``data/outcomes.toml``. Code reads the catalogue; it never branches on a version number.

``S1SR_CATALOGUE_DIR`` (test-only) names a folder that replaces ``data/``: its
``s1sr-<version>.toml`` files are the only versions known, and ``device-models.toml`` or
``outcomes.toml``, when it holds them, replace the shipped ones (and ``srvs.toml`` and the
``modifications`` folder likewise). The harness's own tests
use it to run the clause suite on a catalogue whose values differ from the shipped ones
(``fixtures/catalogue-varied``), so that an S1SP which hard-codes the shipped values fails.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s1sr.catalogue.eligibility import Eligibility, parse_eligibility
from s1sr.errors import ConfigError

if TYPE_CHECKING:
    from s1sr.catalogue.modifications import Modification

#: consultation: stated in the consultation's change table; modification: stated in a SEC modification's public
#: documents (a pack's clauses); interpretation: this project's reading of detail neither states.
PROVENANCES = ("consultation", "modification", "interpretation")
DEFAULT_VERSION = "4.3"
#: Test-only: a folder that replaces the shipped catalogue data (see the module docstring).
CATALOGUE_DIR_ENV = "S1SR_CATALOGUE_DIR"


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
    #: Where the clause comes from: the S1SR version (``4.3``) or the modification pack (``MP312``).
    source: str = ""

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
class OutcomeClass:
    """Why a request, or one device of it, succeeded or not, and the outcome code that carries it.

    Features name the class (``"update in progress on the device's HAN"``); the code is the
    ``SMETS1Debug/SMETS1Response/@ResponseCode`` the S1SP under test writes for it. The S1SR does
    not number outcomes, so every code is an interpretation an analyst corrects here.
    """

    name: str
    code: int
    provenance: str
    code_provenance: str
    meaning: str
    clauses: tuple[str, ...] = ()


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
    #: What sets the model apart where an SRV rule needs it (``twin-element``, ``export``).
    traits: tuple[str, ...] = ()


@dataclass(frozen=True)
class DMC:
    """A Device Model Combination: a meter model behind a Communications Hub model."""

    id: str
    meter: DeviceModel
    comms_hub: DeviceModel
    default: bool


@dataclass(frozen=True)
class Catalogue:
    """Everything the harness knows of one S1SR version, with the modification packs in force."""

    version: str
    status: str
    clauses: tuple[Clause, ...]
    annex_c: tuple[AnnexCDefault, ...]
    outcomes: tuple[OutcomeClass, ...] = ()
    eligibility: Eligibility = field(default_factory=lambda: eligibility(), hash=False, compare=False)
    modifications: tuple[Modification, ...] = ()

    @property
    def spec(self) -> str:
        """The version with its packs in force: ``4.3`` or ``4.3+MP312``."""
        return "+".join([self.version, *(m.id for m in self.modifications)])

    def in_force(self, pack_id: str) -> bool:
        """Whether the pack ``pack_id`` is in force."""
        return any(m.id == pack_id.upper() for m in self.modifications)

    def clause(self, clause_id: str) -> Clause | None:
        """The clause with this id, or None when this version does not have it."""
        return next((c for c in self.clauses if c.id == clause_id), None)

    def parameter(self, name: str, default: Any = None) -> Any:
        """A rule parameter from whichever clause sets it (e.g. ``join_rounding``)."""
        for clause in self.clauses:
            if name in clause.parameters:
                return clause.parameters[name]
        return default

    def annex_c_entry(self, srv: str, command: str, field: str) -> AnnexCDefault | None:
        """The Annex C entry for one field of one command of one SRV, or None when Annex C has none."""
        return next((e for e in self.annex_c if (e.srv, e.command, e.field) == (srv, command, field)), None)

    def outcome(self, name: str) -> OutcomeClass:
        """The outcome class called ``name``; :class:`ConfigError` lists the known ones."""
        for found in self.outcomes:
            if found.name == name:
                return found
        known = ", ".join(f'"{o.name}"' for o in self.outcomes)
        raise ConfigError(f'no outcome class "{name}" in the catalogue', "outcomes.toml", f"known: {known}")

    def outcome_of(self, code: int) -> OutcomeClass | None:
        """The outcome class that ``code`` carries, or None when no class has that code."""
        return next((o for o in self.outcomes if o.code == code), None)


def _shipped() -> Traversable:
    return resources.files("s1sr.catalogue").joinpath("data")


def catalogue_dir() -> Path | None:
    """The folder ``S1SR_CATALOGUE_DIR`` names (test-only), or None for the shipped catalogue.

    :class:`ConfigError` when it names no folder or a folder with no ``s1sr-<version>.toml``.
    """
    value = os.environ.get(CATALOGUE_DIR_ENV, "")
    if not value:
        return None
    folder = Path(value).resolve()
    if not folder.is_dir():
        raise ConfigError(
            f"{CATALOGUE_DIR_ENV} names no folder", value, f"unset {CATALOGUE_DIR_ENV} or name a catalogue folder"
        )
    if not any(folder.glob("s1sr-*.toml")):
        raise ConfigError(
            f"{CATALOGUE_DIR_ENV} names a folder with no s1sr-<version>.toml", value, "name a catalogue folder"
        )
    return folder


def data_file(name: str) -> Traversable:
    """Where the catalogue file ``name`` is read from: the ``S1SR_CATALOGUE_DIR`` folder, else the shipped data.

    A version file (``s1sr-<version>.toml``) comes only from that folder when it is set; the
    device models and the outcome classes fall back to the shipped ones.
    """
    folder = catalogue_dir()
    if folder is not None and ((folder / name).exists() or name.startswith("s1sr-")):
        return folder / name
    return _shipped().joinpath(name)


#: The most a catalogue file may hold. The shipped ones are under 16 kB; the bound keeps a wrong path (a log, a
#: device) given as a catalogue folder from being read whole.
MAX_CATALOGUE_FILE_BYTES = 1_000_000


def catalogue_text(where: Traversable) -> str:
    """The text of the catalogue file ``where``: at most :data:`MAX_CATALOGUE_FILE_BYTES`, UTF-8.

    :class:`ConfigError` naming the file when it cannot be read, is over the bound or is not UTF-8.
    """
    try:
        with where.open("rb") as handle:
            data = handle.read(MAX_CATALOGUE_FILE_BYTES + 1)
    except IsADirectoryError:
        raise ConfigError("catalogue file is a folder", str(where), "name a TOML file") from None
    except OSError as exc:
        raise ConfigError(f"catalogue file cannot be read ({exc.strerror})", str(where)) from None
    if len(data) > MAX_CATALOGUE_FILE_BYTES:
        raise ConfigError(
            f"catalogue file is over {MAX_CATALOGUE_FILE_BYTES:,} bytes", str(where), "name the catalogue's own file"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"catalogue file is not UTF-8 text (byte {exc.start})", str(where), "save it as UTF-8"
        ) from None


def _data(name: str) -> dict[str, Any]:
    where = data_file(name)
    text = catalogue_text(where)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"catalogue file is not valid TOML: {exc}", str(where), "correct the file") from None


def versions() -> list[str]:
    """The S1SR versions that have a catalogue, oldest first."""
    folder: Traversable = catalogue_dir() or _shipped()
    names = [p.name for p in folder.iterdir()]
    found = [n.removeprefix("s1sr-").removesuffix(".toml") for n in names if n.startswith("s1sr-")]
    return sorted(found, key=lambda v: tuple(int(p) if p.isdigit() else 0 for p in v.split(".")))


def _require(entry: dict[str, Any], key: str, where: str) -> Any:
    if key not in entry:
        raise ConfigError(f"catalogue entry has no '{key}'", where, "add it to the catalogue file")
    return entry[key]


def load_catalogue(version: str = DEFAULT_VERSION) -> Catalogue:
    """Load the catalogue of one S1SR version, or of a spec with packs in force (``4.3+MP312``).

    :class:`ConfigError` names the known versions, or the pack that does not apply or clashes.
    """
    from s1sr.catalogue.modifications import split_spec

    base, packs = split_spec(version)
    return _load_with_packs(catalogue_dir(), base, packs)


@cache
def _load_with_packs(folder: Path | None, base: str, packs: tuple[str, ...]) -> Catalogue:
    catalogue = _load_catalogue(folder, base)
    if not packs:
        return catalogue
    from s1sr.catalogue.modifications import apply_packs

    return apply_packs(catalogue, packs, clause_from, annex_c_from)


def clause_from(entry: dict[str, Any], where: str, source: str) -> Clause:
    """One ``[[clause]]`` entry of a version file or a pack; :class:`ConfigError` when incomplete."""
    models = device_models()
    cid = _require(entry, "id", where)
    for key in ("provenance", "detail_provenance"):
        if entry.get(key) not in PROVENANCES:
            raise ConfigError(f"clause {cid} {key} must be one of {PROVENANCES}", where)
    for model in entry.get("device_models", []):
        if model not in models:
            raise ConfigError(f"clause {cid} names unknown device model '{model}'", where)
    return Clause(
        id=cid,
        title=_require(entry, "title", where),
        srvs=tuple(entry.get("srvs", [])),
        provenance=entry["provenance"],
        detail_provenance=entry["detail_provenance"],
        device_models=tuple(entry.get("device_models", [])),
        reading=" ".join(_require(entry, "reading", where).split()),
        parameters=dict(entry.get("parameters", {})),
        former_id=entry.get("former_id"),
        source=source,
    )


def annex_c_from(entry: dict[str, Any], where: str) -> AnnexCDefault:
    """One ``[[annex_c]]`` entry of a version file or a pack."""
    return AnnexCDefault(
        srv=str(_require(entry, "srv", where)),
        command=_require(entry, "command", where),
        field=_require(entry, "field", where),
        value=_require(entry, "value", where),
        unit=entry.get("unit", ""),
        provenance=entry.get("provenance", "interpretation"),
    )


@cache
def _load_catalogue(folder: Path | None, version: str) -> Catalogue:
    known = versions()
    if version not in known:
        raise ConfigError(
            f"no catalogue for S1SR version '{version}'",
            "--s1sr-version",
            f"choose one of {', '.join(known)}",
        )
    where = f"catalogue s1sr-{version}.toml"
    data = _data(f"s1sr-{version}.toml")
    clauses = tuple(clause_from(entry, where, version) for entry in data.get("clause", []))
    annex = tuple(annex_c_from(e, where) for e in data.get("annex_c", []))
    return Catalogue(version, data.get("status", ""), clauses, annex, outcome_classes(), eligibility())


def clause_key(clause_id: str) -> tuple[int | str, ...]:
    """Sort key of a clause id: S1SR clauses by number (18.3 before 18.16), then the others (DUIS.1, MP162.1)."""
    parts = clause_id.split(".")
    if all(p.isdigit() for p in parts):
        return (0, *(int(p) for p in parts))
    key: list[int | str] = [1]
    for part in parts:  # each part as (kind, value): numbers and words never meet in one comparison
        key += [0, int(part)] if part.isdigit() else [1, part]
    return tuple(key)


def every_clause_id() -> set[str]:
    """Every clause id some version holds or some modification pack adds."""
    from s1sr.catalogue.modifications import known_modifications

    found = {c.id for v in versions() for c in load_catalogue(v).clauses}
    for pack in known_modifications().values():
        found |= {str(entry.get("id")) for entry in pack.overlay["clause"]}
    return found


def eligibility() -> Eligibility:
    """The User roles, test Users, SRV rules and DUIS response codes (``srvs.toml``), before any pack."""
    return _eligibility(catalogue_dir())


@cache
def _eligibility(folder: Path | None) -> Eligibility:
    return parse_eligibility(_data("srvs.toml"), f"catalogue {data_file('srvs.toml')}")


def outcome_classes() -> tuple[OutcomeClass, ...]:
    """The outcome classes, each with the code that carries it (``outcomes.toml``)."""
    return _outcome_classes(catalogue_dir())


@cache
def _outcome_classes(folder: Path | None) -> tuple[OutcomeClass, ...]:
    where = f"catalogue {data_file('outcomes.toml')}"
    found: list[OutcomeClass] = []
    for entry in _data("outcomes.toml").get("outcome", []):
        name = _require(entry, "name", where)
        code = _require(entry, "code", where)
        if not isinstance(code, int) or isinstance(code, bool):
            raise ConfigError(f'outcome class "{name}" has code {code!r}, not a whole number', where)
        for key in ("provenance", "code_provenance"):
            if entry.get(key) not in PROVENANCES:
                raise ConfigError(f'outcome class "{name}" {key} must be one of {PROVENANCES}', where)
        for other in found:
            if other.name == name:
                raise ConfigError(f'two outcome classes are named "{name}"', where, "give each class its own name")
            # One code per class: a code two classes share could not tell them apart.
            if other.code == code:
                raise ConfigError(
                    f'outcome classes "{other.name}" and "{name}" share code {code}', where, "give each its own code"
                )
        found.append(
            OutcomeClass(
                name=name,
                code=code,
                provenance=entry["provenance"],
                code_provenance=entry["code_provenance"],
                meaning=" ".join(_require(entry, "meaning", where).split()),
                clauses=tuple(entry.get("clauses", [])),
            )
        )
    return tuple(found)


def device_models() -> dict[str, DeviceModel]:
    """All device models, by id."""
    return _device_models(catalogue_dir())


@cache
def _device_models(folder: Path | None) -> dict[str, DeviceModel]:
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
            traits=tuple(e.get("traits", [])),
        )
        for e in _data("device-models.toml").get("device_model", [])
    }


def dmcs() -> dict[str, DMC]:
    """All Device Model Combinations, by id."""
    return _dmcs(catalogue_dir())


@cache
def _dmcs(folder: Path | None) -> dict[str, DMC]:
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
