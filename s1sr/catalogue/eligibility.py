"""Who may send each Service Reference Variant, to which devices: User roles, test Users and SRV rules, as data.

``srvs.toml`` holds, per SRV the harness knows, the User roles eligible to send it (from the DUIS
request matrix, as it stood before MP162), the device types that answer it, the device-model traits
that cannot, and whether DCC schedules it; the DUIS response codes a User gets when it may not; the
User roles; and the test Users (EUI-64 User IDs, each with its roles) the harness sends as and the
reference S1SP knows. Modification packs change all of these (:mod:`s1sr.catalogue.modifications`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from s1sr.errors import ConfigError

#: Where a rule comes from: DUIS as published (the request matrix), or this project's reading.
RULE_PROVENANCES = ("duis", "interpretation")


@dataclass(frozen=True)
class Role:
    """A User role: its DUIS code (``IS``) and name (``Import Supplier``)."""

    code: str
    name: str
    provenance: str
    source: str


@dataclass(frozen=True)
class RegisteredUser:
    """A User ID the harness sends as, and the roles the S1SP knows it in."""

    eui: str
    roles: tuple[str, ...]
    name: str
    source: str


@dataclass(frozen=True)
class SrvRule:
    """Who may send one SRV and which devices can answer it."""

    variant: str
    name: str
    roles: tuple[str, ...]
    #: Device types the request may target (empty: a non-device target, such as the DCC for 11.1).
    device_types: tuple[str, ...]
    #: Device-model traits (``twin-element``) whose models cannot answer it.
    excluded_traits: tuple[str, ...]
    dcc_scheduled: bool
    provenance: str
    source: str
    #: What changed the rule last: ``base`` or a modification pack's id.
    changed_by: str = "base"


@dataclass(frozen=True)
class ResponseCode:
    """A DUIS response code (``sr:Header/sr:ResponseCode``) and what it means, with where the meaning comes from."""

    code: str
    meaning: str
    source: str


@dataclass(frozen=True)
class Eligibility:
    """The roles, test Users, SRV rules and DUIS response codes of one catalogue."""

    roles: dict[str, Role]
    users: tuple[RegisteredUser, ...]
    srvs: dict[str, SrvRule]
    response_codes: dict[str, ResponseCode]

    def rule(self, srv: str) -> SrvRule | None:
        """The rule of ``srv``, or None when the catalogue has none."""
        return self.srvs.get(srv)

    def user(self, eui: str) -> RegisteredUser | None:
        """The User with this User ID (case-insensitive), or None when unknown."""
        wanted = eui.upper()
        return next((u for u in self.users if u.eui == wanted), None)

    def user_in_role(self, role: str) -> RegisteredUser:
        """The test User that acts in ``role``: one holding that role alone if any, else the first holding it."""
        holding = [u for u in self.users if role in u.roles]
        if not holding:
            known = ", ".join(sorted(self.roles))
            raise ConfigError(f"no test User holds the role {role}", "srvs.toml [[user]]", f"roles held: {known}")
        return min(holding, key=lambda u: len(u.roles))

    def role_named(self, name: str) -> Role:
        """The role called ``name`` (``Import Supplier``) or coded ``name`` (``IS``)."""
        for role in self.roles.values():
            if name.lower() in (role.name.lower(), role.code.lower()):
                return role
        known = ", ".join(f"{r.name} ({r.code})" for r in self.roles.values())
        raise ConfigError(f'no User role "{name}" in this catalogue', "User role", f"known: {known}")


def _text(entry: dict[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"entry has no '{key}' text", where, "add it to the catalogue file")
    return " ".join(value.split())


def _provenance(entry: dict[str, Any], where: str) -> str:
    value = entry.get("provenance")
    if value not in RULE_PROVENANCES:
        raise ConfigError(f"provenance must be one of {RULE_PROVENANCES}, not {value!r}", where)
    return str(value)


def _strings(entry: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = entry.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"'{key}' must be a list of strings", where)
    return tuple(value)


def role_from(entry: dict[str, Any], where: str) -> Role:
    """A ``[[role]]`` entry."""
    return Role(
        _text(entry, "code", where),
        _text(entry, "name", where),
        _provenance(entry, where),
        _text(entry, "source", where),
    )


def parse_eligibility(data: dict[str, Any], where: str) -> Eligibility:
    """Read ``srvs.toml``; :class:`ConfigError` for an entry that is incomplete or names an unknown role."""
    roles = {r.code: r for r in (role_from(e, f"{where} [[role]]") for e in data.get("role", []))}
    users = []
    for entry in data.get("user", []):
        spot = f"{where} [[user]] {entry.get('eui', '?')}"
        users.append(
            RegisteredUser(
                _text(entry, "eui", spot).upper(),
                _strings(entry, "roles", spot),
                _text(entry, "name", spot),
                _text(entry, "source", spot),
            )
        )
    srvs = {}
    for entry in data.get("srv", []):
        spot = f"{where} [[srv]] {entry.get('variant', '?')}"
        rule = SrvRule(
            variant=_text(entry, "variant", spot),
            name=_text(entry, "name", spot),
            roles=_strings(entry, "roles", spot),
            device_types=_strings(entry, "device_types", spot),
            excluded_traits=_strings(entry, "excluded_traits", spot),
            dcc_scheduled=bool(entry.get("dcc_scheduled", False)),
            provenance=_provenance(entry, spot),
            source=_text(entry, "source", spot),
        )
        if rule.variant in srvs:
            raise ConfigError(f"SRV {rule.variant} has two rules", spot, "keep one")
        srvs[rule.variant] = rule
    codes = {
        c.code: c
        for c in (
            ResponseCode(_text(e, "code", where), _text(e, "meaning", where), _text(e, "source", where))
            for e in data.get("response_code", [])
        )
    }
    found = Eligibility(roles, tuple(users), srvs, codes)
    check_roles(found, where)
    return found


def check_roles(found: Eligibility, where: str) -> None:
    """Every role a User holds or an SRV names is a known role."""
    for user in found.users:
        for role in user.roles:
            if role not in found.roles:
                raise ConfigError(f"User {user.eui} holds unknown role {role}", where, "add a [[role]] or correct it")
    for rule in found.srvs.values():
        for role in rule.roles:
            if role not in found.roles:
                raise ConfigError(
                    f"SRV {rule.variant} names unknown role {role}", where, "add a [[role]] or correct it"
                )
