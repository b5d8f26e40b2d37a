"""Modification packs: SEC modifications layered on an S1SR version, as data.

A pack (``data/modifications/<ID>.toml``) is an overlay on the catalogue of a version: clauses
added (``[[clause]]``), changed (``[[clause_change]]``) or withdrawn (``[[clause_withdrawn]]``),
Annex C entries added or replaced (``[[annex_c]]``), User roles added (``[[role]]``), roles given to
test Users (``[[user_role]]``), and SRV rules changed (``[[srv]]``: roles added or removed,
DCC scheduling, device-model traits that cannot answer). Each pack names the versions it applies to,
its status and where each reading comes from.

A run names a version with packs in force as a *spec*: ``4.3+MP312+MP162`` (``s1sr run
--s1sr-version 4.3 --modification MP312`` builds the same). :func:`apply_packs` refuses a pack that
does not apply to the version, and two packs that change the same thing differently.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s1sr.catalogue.eligibility import Eligibility, SrvRule, role_from
from s1sr.errors import ConfigError

if TYPE_CHECKING:
    from s1sr.catalogue import Catalogue

STATUSES = ("proposed", "approved", "implemented")
#: Where pack files live, inside the catalogue data folder.
FOLDER = "modifications"


@dataclass(frozen=True)
class Source:
    """A document a pack's readings come from."""

    title: str
    date: str
    note: str


@dataclass(frozen=True)
class Modification:
    """One SEC modification as a pack: what it is, where it applies, and the overlay it carries."""

    id: str
    title: str
    status: str
    applies_to: tuple[str, ...]
    summary: str
    sources: tuple[Source, ...]
    #: The overlay tables as read (``clause``, ``clause_change``, ...), applied by :func:`apply_packs`.
    overlay: dict[str, Any] = dataclasses.field(hash=False, compare=False, default_factory=dict)
    conflicts_with: tuple[str, ...] = ()

    @property
    def tag(self) -> str:
        """The feature tag of this pack's scenarios (``@mp-312`` for MP312)."""
        return "mp-" + self.id.upper().removeprefix("MP").lower()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for ``s1sr modifications --json``."""
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "applies_to": list(self.applies_to),
            "summary": self.summary,
            "tag": "@" + self.tag,
            "sources": [dataclasses.asdict(s) for s in self.sources],
            "clauses_added": [c["id"] for c in self.overlay.get("clause", [])],
            "clauses_changed": [c["id"] for c in self.overlay.get("clause_change", [])],
            "clauses_withdrawn": [c["id"] for c in self.overlay.get("clause_withdrawn", [])],
            "srv_rules_changed": [s["variant"] for s in self.overlay.get("srv", [])],
            "roles_added": [r["code"] for r in self.overlay.get("role", [])],
            "conflicts_with": list(self.conflicts_with),
        }


def split_spec(spec: str) -> tuple[str, tuple[str, ...]]:
    """``"4.3+MP312+MP162"`` -> ``("4.3", ("MP312", "MP162"))``; pack ids upper-cased, repeats dropped."""
    base, *packs = [part.strip() for part in spec.split("+")]
    if not base or any(not p for p in packs):
        raise ConfigError(f"'{spec}' is not VERSION or VERSION+PACK", "--s1sr-version", "write e.g. 4.3 or 4.3+MP312")
    return base, tuple(dict.fromkeys(p.upper() for p in packs))


def with_modifications(version: str, modifications: tuple[str, ...] | list[str]) -> str:
    """The spec of ``version`` with ``modifications`` in force (``4.3`` + ``MP312`` -> ``4.3+MP312``)."""
    base, packs = split_spec(version)
    every = tuple(dict.fromkeys([*packs, *(m.strip().upper() for m in modifications)]))
    for pack in every:
        if not pack:
            raise ConfigError("a modification id is empty", "--modification", "name a pack, e.g. MP312")
    return "+".join([base, *every])


def _folder() -> Any:
    from s1sr.catalogue import data_file

    return data_file(FOLDER)


def known_modifications() -> dict[str, Modification]:
    """Every pack the catalogue holds, by id (``S1SR_CATALOGUE_DIR``'s own when it has a modifications folder)."""
    from s1sr.catalogue import catalogue_dir

    return _known(catalogue_dir())


@cache
def _known(folder: Path | None) -> dict[str, Modification]:
    from s1sr.catalogue import catalogue_text

    where = _folder()
    found: dict[str, Modification] = {}
    if not where.is_dir():
        return found
    for entry in sorted(where.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".toml"):
            continue
        pack = _read(entry.name, catalogue_text(entry), str(entry))
        if pack.id in found:
            raise ConfigError(f"two packs are called {pack.id}", str(entry), "give each pack its own id")
        found[pack.id] = pack
    return found


def _read(name: str, text: str, where: str) -> Modification:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"modification pack is not valid TOML: {exc}", where, "correct the file") from None
    pid = str(data.get("id", "")).upper()
    if pid != name.removesuffix(".toml").upper():
        raise ConfigError(f"the pack's id '{pid}' is not its file name", where, f"name the file {pid}.toml")
    status = data.get("status")
    if status not in STATUSES:
        raise ConfigError(f"pack {pid} status must be one of {STATUSES}, not {status!r}", where)
    applies = data.get("applies_to")
    if not isinstance(applies, list) or not applies:
        raise ConfigError(f"pack {pid} names no version it applies to", where, 'add applies_to = ["4.3"]')
    for key in ("title", "summary"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise ConfigError(f"pack {pid} has no {key}", where, "add it")
    sources = tuple(
        Source(str(s.get("title", "")), str(s.get("date", "")), " ".join(str(s.get("note", "")).split()))
        for s in data.get("source", [])
    )
    if not sources:
        raise ConfigError(f"pack {pid} names no source", where, "add a [[source]] with title, date and note")
    overlay = {key: data.get(key, []) for key in OVERLAY_TABLES}
    unknown = sorted(set(data) - set(OVERLAY_TABLES) - HEADER_KEYS)
    if unknown:
        raise ConfigError(
            f"pack {pid} has unknown key '{unknown[0]}'",
            where,
            f"known: {', '.join(sorted(HEADER_KEYS | set(OVERLAY_TABLES)))}",
        )
    return Modification(
        id=pid,
        title=" ".join(data["title"].split()),
        status=status,
        applies_to=tuple(str(v) for v in applies),
        summary=" ".join(data["summary"].split()),
        sources=sources,
        overlay=overlay,
        conflicts_with=tuple(str(c).upper() for c in data.get("conflicts_with", [])),
    )


OVERLAY_TABLES = ("clause", "clause_change", "clause_withdrawn", "annex_c", "role", "user_role", "srv")
HEADER_KEYS = frozenset({"id", "title", "status", "applies_to", "summary", "source", "conflicts_with"})


def find_modification(pack_id: str) -> Modification:
    """The pack called ``pack_id``; :class:`ConfigError` names the known ones."""
    known = known_modifications()
    found = known.get(pack_id.upper())
    if found is None:
        names = ", ".join(known) or "none"
        raise ConfigError(f"no modification pack '{pack_id}'", "--modification", f"known: {names} (s1sr modifications)")
    return found


def apply_packs(catalogue: Catalogue, pack_ids: tuple[str, ...], clause_from: Any, annex_c_from: Any) -> Catalogue:
    """``catalogue`` with ``pack_ids`` in force, in order; :class:`ConfigError` when one does not apply or two clash.

    ``clause_from(entry, where, source)`` and ``annex_c_from(entry, where)`` read one ``[[clause]]`` or
    ``[[annex_c]]`` entry as the version files do.
    """
    packs = [find_modification(p) for p in pack_ids]
    for pack in packs:
        if catalogue.version not in pack.applies_to:
            raise ConfigError(
                f"{pack.id} does not apply to S1SR {catalogue.version}",
                "--modification",
                f"{pack.id} applies to S1SR {', '.join(pack.applies_to)}",
            )
    _refuse_contradictions(packs)
    clauses = list(catalogue.clauses)
    annex = list(catalogue.annex_c)
    rights = catalogue.eligibility
    roles, users, srvs = dict(rights.roles), list(rights.users), dict(rights.srvs)
    for pack in packs:
        where = f"modification pack {pack.id}"
        for entry in pack.overlay["clause"]:
            clause = clause_from(entry, where, pack.id)
            if any(c.id == clause.id for c in clauses):
                raise ConfigError(
                    f"{pack.id} adds clause {clause.id}, which S1SR {catalogue.version} has",
                    where,
                    "use [[clause_change]]",
                )
            clauses.append(clause)
        for entry in pack.overlay["clause_change"]:
            index = _clause_index(clauses, entry, pack, catalogue.version)
            fields = {k: v for k, v in entry.items() if k != "id"}
            bad = sorted(set(fields) - CHANGEABLE)
            if bad:
                raise ConfigError(
                    f"{pack.id} changes clause field '{bad[0]}'", where, f"changeable: {', '.join(sorted(CHANGEABLE))}"
                )
            if "reading" in fields:
                fields["reading"] = " ".join(str(fields["reading"]).split())
            for key in ("srvs", "device_models"):
                if key in fields:
                    fields[key] = tuple(fields[key])
            clauses[index] = dataclasses.replace(clauses[index], **fields, source=pack.id)
        for entry in pack.overlay["clause_withdrawn"]:
            del clauses[_clause_index(clauses, entry, pack, catalogue.version)]
        for entry in pack.overlay["annex_c"]:
            new = annex_c_from(entry, where)
            annex = [e for e in annex if (e.srv, e.command, e.field) != (new.srv, new.command, new.field)] + [new]
        for entry in pack.overlay["role"]:
            added = role_from(entry, f"{where} [[role]]")
            roles[added.code] = added
        for entry in pack.overlay["user_role"]:
            eui, role = str(entry.get("eui", "")).upper(), str(entry.get("role", ""))
            found = [i for i, u in enumerate(users) if u.eui == eui]
            if not found:
                raise ConfigError(f"{pack.id} gives a role to unknown User {eui}", where, "add the User to srvs.toml")
            users[found[0]] = dataclasses.replace(users[found[0]], roles=(*users[found[0]].roles, role))
        for entry in pack.overlay["srv"]:
            srvs[str(entry.get("variant"))] = _changed_rule(srvs, entry, pack)
    eligibility = Eligibility(roles, tuple(users), srvs, rights.response_codes)
    from s1sr.catalogue.eligibility import check_roles

    check_roles(eligibility, " + ".join(p.id for p in packs))
    return dataclasses.replace(
        catalogue,
        clauses=tuple(clauses),
        annex_c=tuple(annex),
        eligibility=eligibility,
        modifications=tuple(packs),
    )


#: What a ``[[clause_change]]`` may change.
CHANGEABLE = frozenset({"title", "srvs", "provenance", "detail_provenance", "device_models", "reading", "parameters"})


def _clause_index(clauses: list[Any], entry: dict[str, Any], pack: Modification, version: str) -> int:
    cid = str(entry.get("id", ""))
    for index, clause in enumerate(clauses):
        if clause.id == cid:
            return index
    raise ConfigError(
        f"{pack.id} changes clause {cid}, which S1SR {version} does not have", f"modification pack {pack.id}"
    )


def _changed_rule(srvs: dict[str, SrvRule], entry: dict[str, Any], pack: Modification) -> SrvRule:
    variant = str(entry.get("variant", ""))
    rule = srvs.get(variant)
    if rule is None:
        raise ConfigError(
            f"{pack.id} changes SRV {variant}, which has no rule", f"modification pack {pack.id}", "add it to srvs.toml"
        )
    roles = [r for r in rule.roles if r not in entry.get("remove_roles", [])]
    roles += [r for r in entry.get("add_roles", []) if r not in roles]
    traits = tuple(dict.fromkeys([*rule.excluded_traits, *entry.get("exclude_traits", [])]))
    return dataclasses.replace(
        rule,
        roles=tuple(roles),
        excluded_traits=traits,
        dcc_scheduled=bool(entry.get("dcc_scheduled", rule.dcc_scheduled)),
        provenance=str(entry.get("provenance", rule.provenance)),
        source=f"{rule.source}; {pack.id}: " + " ".join(str(entry.get("source", "")).split()),
        changed_by=pack.id if rule.changed_by == "base" else f"{rule.changed_by}, {pack.id}",
    )


def _touches(pack: Modification) -> dict[tuple[str, str], Any]:
    """What a pack changes, as (kind, key) -> the change, for finding two packs at odds."""
    found: dict[tuple[str, str], Any] = {}
    for kind in ("clause", "clause_change", "clause_withdrawn"):
        for entry in pack.overlay[kind]:
            found[("clause", str(entry.get("id")))] = (kind, entry)
    for entry in pack.overlay["annex_c"]:
        found[("annex_c", f"{entry.get('srv')} {entry.get('command')}.{entry.get('field')}")] = entry.get("value")
    for entry in pack.overlay["srv"]:
        variant = str(entry.get("variant"))
        if "dcc_scheduled" in entry:
            found[("dcc_scheduled", variant)] = entry["dcc_scheduled"]
        for role in entry.get("add_roles", []):
            found[("role", f"{variant} {role}")] = "add"
        for role in entry.get("remove_roles", []):
            found[("role", f"{variant} {role}")] = "remove"
    for entry in pack.overlay["role"]:
        found[("role code", str(entry.get("code")))] = entry.get("name")
    return found


def _refuse_contradictions(packs: list[Modification]) -> None:
    ids = {p.id for p in packs}
    for pack in packs:
        clash = sorted(ids & set(pack.conflicts_with))
        if clash:
            raise ConfigError(
                f"{pack.id} and {clash[0]} contradict each other (the pack says so)", "--modification", "choose one"
            )
    for i, first in enumerate(packs):
        mine = _touches(first)
        for second in packs[i + 1 :]:
            for key, change in _touches(second).items():
                if key in mine and (key[0] == "clause" or mine[key] != change):
                    raise ConfigError(
                        f"{first.id} and {second.id} contradict each other on {key[0]} {key[1]}",
                        "--modification",
                        "run them separately, or correct one pack",
                    )
