"""The deviation register: known deviations (waivers) a release manager has accepted, each with an expiry.

A register is a TOML file of ``[[waiver]]`` tables (``s1sr run --waivers FILE``, ``pytest --s1sr-waivers FILE``,
``s1sr report JOURNAL... --waivers FILE``)::

    [[waiver]]
    clause = "23"                       # or: scenario = "features/23-annex-c-defaults.feature:11[secure-esme]"
    dmc = "secure-esme"                 # optional: only on this DMC
    s1sr_version = "4.3"                # optional: only in runs of this version spec (4.3+MP312 for a pack)
    reason = "the S1SP labels fields it was given as Annex C defaults"
    reference = "JIRA S1SP-412"         # a ticket, or a consultation response
    expires = 2026-12-31                # a TOML date: live up to and including that day (UTC)
    accepted_by = "A. Release Manager"

``scenario`` is a scenario id as ``results.json`` has it; without its ``[DMC]`` it covers every DMC, and an
outline's id without the ``:LINE#ROW`` of an Examples row covers every row. ``clause`` covers every scenario
of that clause. Exactly one of the two; ``reason``, ``reference``, ``expires`` and ``accepted_by`` are
required; any other key is refused, naming it.

Only a ``failed`` or ``error`` scenario can be waived. A ``not run`` scenario cannot: a run that did not
happen is not a known deviation, and waiving it would let an interrupted run pass as conformant. A waiver
that covers a non-pass and is live (today, in UTC, is on or before ``expires``) turns it into ``waived``, the
original outcome kept beside it; a waiver past its expiry applies to nothing and is listed as expired; one
that waives nothing is listed as unused (with why: it matches no scenario of the run, or what it matches
passed or did not run). The register is judged when the record is rendered, against that day's date.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s1sr.catalogue import dmcs, every_clause_id, versions
from s1sr.catalogue.modifications import known_modifications
from s1sr.errors import ConfigError, InputError

if TYPE_CHECKING:
    from s1sr.report.results import RunRecord, ScenarioResult

#: The outcome a covered non-pass is reported as.
WAIVED = "waived"
#: The outcomes a live waiver turns into ``waived``.
WAIVABLE = ("failed", "error")
#: Largest register read: a few hundred waivers take tens of kilobytes.
MAX_REGISTER_BYTES = 1024 * 1024
#: The keys of a ``[[waiver]]`` table.
REQUIRED = ("reason", "reference", "expires", "accepted_by")
OPTIONAL = ("scenario", "clause", "dmc", "s1sr_version")
_KEYS = (*OPTIONAL, *REQUIRED)
#: ``file.feature:LINE``, an Examples row's ``:LINE#ROW``, and the ``[DMC]``, each part optional after the first.
_SCENARIO_ID = re.compile(r"[^\[\]\s][^\[\]]*\.feature:\d+(?::\d+#\d+)?(?:\[([^\[\]]+)\])?")


@dataclass(frozen=True)
class Waiver:
    """One accepted deviation: what it covers, why, on whose say, until when."""

    #: Its place in the register, from 1 (how lines and pages name it).
    number: int
    scenario: str | None
    clause: str | None
    dmc: str | None
    s1sr_version: str | None
    reason: str
    reference: str
    expires: date
    accepted_by: str

    def live_on(self, today: date) -> bool:
        """Whether the waiver applies on ``today``: up to and including its expiry day."""
        return today <= self.expires

    def covers(self, scenario: ScenarioResult, s1sr_version: str) -> bool:
        """Whether the waiver names this scenario example (by id or clause, DMC and version), whatever its outcome."""
        if self.s1sr_version is not None and _spec(self.s1sr_version) != _spec(s1sr_version):
            return False
        if self.dmc is not None and scenario.dmc != self.dmc:
            return False
        if self.clause is not None:
            return self.clause in scenario.clauses
        wanted = self.scenario or ""
        if wanted.endswith("]"):
            return scenario.id == wanted
        bare = scenario.id.removesuffix(f"[{scenario.dmc}]")
        return bare == wanted or bare.startswith(f"{wanted}:")  # an outline's id covers each of its rows

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (``expires`` as ``YYYY-MM-DD``)."""
        return {
            "number": self.number,
            "scenario": self.scenario,
            "clause": self.clause,
            "dmc": self.dmc,
            "s1sr_version": self.s1sr_version,
            "reason": self.reason,
            "reference": self.reference,
            "expires": self.expires.isoformat(),
            "accepted_by": self.accepted_by,
        }


@dataclass(frozen=True)
class WaiverRegister:
    """A deviation register as read: where from, its SHA-256, and its waivers in file order."""

    source: str
    sha256: str
    waivers: tuple[Waiver, ...]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (what a run's journal keeps, so that ``s1sr report`` applies the same register)."""
        return {"source": self.source, "sha256": self.sha256, "waivers": [w.as_dict() for w in self.waivers]}


def load_waivers(path: Path) -> WaiverRegister:
    """Read and check the register at ``path``; :class:`ConfigError` (one line naming the file) when it is wrong."""
    where = str(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_REGISTER_BYTES + 1)
    except IsADirectoryError:
        raise ConfigError("is a folder, not a deviation register", where, "name a TOML file of [[waiver]]") from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read the deviation register ({exc.strerror or exc})", where, "name a TOML file of [[waiver]]"
        ) from None
    return parse_waivers(data, where)


def parse_waivers(data: bytes, where: str) -> WaiverRegister:
    """A register from the bytes of its file; :class:`ConfigError` (one line) for anything wrong in it."""
    if len(data) > MAX_REGISTER_BYTES:
        raise ConfigError(
            f"is larger than {MAX_REGISTER_BYTES // 1024} KiB: not a deviation register", where, "split it or trim it"
        )
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError("is not UTF-8 text", where, "save the register as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"is not valid TOML ({exc})", where, "correct the file") from None
    unknown = [key for key in document if key != "waiver"]
    if unknown:
        raise ConfigError(
            f"has an unknown table or key '{unknown[0]}'", where, "a register holds only [[waiver]] tables"
        )
    tables = document.get("waiver", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ConfigError("'waiver' is not a list of tables", where, "write each waiver as a [[waiver]] table")
    known = _known_names()
    waivers = tuple(
        _waiver(table, number, f"{where}: [[waiver]] {number}", known) for number, table in enumerate(tables, 1)
    )
    return WaiverRegister(where, hashlib.sha256(data).hexdigest(), waivers)


def _waiver(table: dict[str, Any], number: int, where: str, known: _Names) -> Waiver:
    for key in table:
        if key not in _KEYS:
            raise ConfigError(f"unknown key '{key}'", where, f"the keys are {', '.join(_KEYS)}")
    for key in REQUIRED:
        if key not in table:
            raise ConfigError(f"has no '{key}'", where, f"add {key} (required: {', '.join(REQUIRED)})")
    for key in (*OPTIONAL, "reason", "reference", "accepted_by"):
        if key not in table:
            continue
        value = table[key]
        if not isinstance(value, str):
            raise ConfigError(f"'{key}' is {value!r}, not a text", where, f'write it in quotes, e.g. {key} = "..."')
        if not value.strip():
            raise ConfigError(f"'{key}' is empty", where, f"say what {key} is, or leave the key out if optional")
    expires = table["expires"]
    if not isinstance(expires, date) or isinstance(expires, datetime):
        raise ConfigError(
            f"'expires' is {expires!r}, not a TOML date",
            where,
            "write a date without quotes, e.g. expires = 2026-12-31",
        )
    if ("scenario" in table) == ("clause" in table):
        raise ConfigError("names both a scenario and a clause, or neither", where, "give one: scenario or clause")
    scenario, clause, dmc, version = (table.get(k) for k in OPTIONAL)
    if scenario is not None:
        scenario = scenario.strip()
        found = _SCENARIO_ID.fullmatch(scenario)
        if found is None:
            raise ConfigError(
                f"scenario '{scenario}' is not a scenario id",
                where,
                "copy the id from results.json, e.g. features/23-annex-c-defaults.feature:11[secure-esme]",
            )
        if found[1] is not None and dmc is not None and found[1] != dmc:
            raise ConfigError(f"names DMC {found[1]} in its scenario id and {dmc} in dmc", where, "give one DMC")
        if found[1] is not None and found[1] not in known.dmcs:
            raise ConfigError(f"unknown DMC '{found[1]}' in its scenario id", where, f"choose one of {known.dmc_list}")
    if clause is not None and clause.strip() not in known.clauses:
        raise ConfigError(f"unknown clause '{clause}'", where, "name a clause s1sr clauses lists, e.g. 18.63")
    if dmc is not None and dmc not in known.dmcs:
        raise ConfigError(f"unknown DMC '{dmc}'", where, f"choose one of {known.dmc_list}")
    if version is not None:
        base, packs = _spec(version)
        if base not in known.versions or any(p not in known.packs for p in packs):
            raise ConfigError(
                f"s1sr_version '{version}' is not a known version spec",
                where,
                f"write a version of {', '.join(known.versions)}, with +PACK for a modification pack in force",
            )
    return Waiver(
        number=number,
        scenario=scenario,
        clause=clause.strip() if clause is not None else None,
        dmc=dmc,
        s1sr_version=version,
        reason=" ".join(table["reason"].split()),
        reference=table["reference"].strip(),
        expires=expires,
        accepted_by=table["accepted_by"].strip(),
    )


@dataclass(frozen=True)
class _Names:
    """What a waiver may name: clause ids, DMCs, versions and modification packs the catalogue knows."""

    clauses: frozenset[str]
    dmcs: frozenset[str]
    versions: tuple[str, ...]
    packs: frozenset[str]

    @property
    def dmc_list(self) -> str:
        return ", ".join(sorted(self.dmcs))


def _known_names() -> _Names:
    return _Names(frozenset(every_clause_id()), frozenset(dmcs()), tuple(versions()), frozenset(known_modifications()))


def _spec(version: str) -> tuple[str, frozenset[str]]:
    """A version spec compared as its base and the set of packs (``4.3+mp312`` is ``4.3+MP312``)."""
    base, *packs = (part.strip() for part in version.split("+"))
    return base, frozenset(p.upper() for p in packs if p)


def register_from_dict(data: Any, where: str) -> WaiverRegister:
    """A register back from :meth:`WaiverRegister.as_dict` (a journal line); :class:`InputError` when malformed."""
    try:
        waivers = tuple(
            Waiver(
                number=int(w["number"]),
                scenario=_text_or_none(w["scenario"]),
                clause=_text_or_none(w["clause"]),
                dmc=_text_or_none(w["dmc"]),
                s1sr_version=_text_or_none(w["s1sr_version"]),
                reason=str(w["reason"]),
                reference=str(w["reference"]),
                expires=date.fromisoformat(w["expires"]),
                accepted_by=str(w["accepted_by"]),
            )
            for w in data["waivers"]
        )
        register = WaiverRegister(str(data["source"]), str(data["sha256"]), waivers)
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"holds a deviation register that cannot be read ({exc!r})", where) from None
    if any((w.scenario is None) == (w.clause is None) for w in register.waivers):
        raise InputError("holds a waiver with both or neither of scenario and clause", where)
    return register


def _text_or_none(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"{value!r} is not a text")
    return value


def merge_registers(registers: list[WaiverRegister]) -> WaiverRegister | None:
    """One register from those of several runs (shards): the distinct ones' waivers, numbered on; None for none."""
    distinct = list({r.sha256: r for r in registers}.values())
    if len(distinct) <= 1:
        return distinct[0] if distinct else None
    waivers: list[Waiver] = []
    for register in distinct:
        waivers += (_renumbered(w, len(waivers) + 1) for w in register.waivers)
    return WaiverRegister(
        "; ".join(r.source for r in distinct),
        hashlib.sha256("".join(r.sha256 for r in distinct).encode()).hexdigest(),
        tuple(waivers),
    )


def _renumbered(waiver: Waiver, number: int) -> Waiver:
    return replace(waiver, number=number)


def describe(waiver: dict[str, Any]) -> str:
    """What a waiver (as ``results.json`` gives it) covers, in words: ``clause 23 on secure-esme``."""
    text = f"clause {waiver['clause']}" if waiver.get("clause") else f"scenario {waiver['scenario']}"
    if waiver.get("dmc"):
        text += f" on {waiver['dmc']}"
    if waiver.get("s1sr_version"):
        text += f", S1SR {waiver['s1sr_version']}"
    return text


def today_utc() -> date:
    """Today's date in UTC: the day a register is judged on."""
    return datetime.now(UTC).date()


def judge(record: RunRecord, register: WaiverRegister, today: date) -> dict[str, Any]:
    """Apply ``register`` to ``record`` on ``today``: each covered non-pass becomes ``waived``; the judgement.

    A scenario is waived by the first live waiver (in file order) that covers it; its outcome before is
    kept as ``waived_outcome``, and the waiver's reason and reference beside it. The judgement is what
    ``results.json`` gives as ``waivers``: ``source``, ``sha256``, ``judged_on``, and the waivers ``applied``
    (with the ``scenarios`` each waived), ``expired`` (with the non-passes it would have covered, ``would_cover``)
    and ``unused`` (with a ``note`` saying why). The caller restores the outcomes before judging again.
    """
    applied: list[dict[str, Any]] = []
    expired: list[dict[str, Any]] = []
    unused: list[dict[str, Any]] = []
    for waiver in register.waivers:
        matched = [s for s in record.scenarios if waiver.covers(s, record.s1sr_version)]
        if not waiver.live_on(today):
            would = [s.id for s in matched if (s.waived_outcome or s.outcome) in WAIVABLE]
            expired.append(waiver.as_dict() | {"would_cover": would})
            continue
        waived = [s for s in matched if s.outcome in WAIVABLE]
        for scenario in waived:
            scenario.waived_outcome, scenario.outcome = scenario.outcome, WAIVED
            scenario.waiver = {
                "number": waiver.number,
                "reason": waiver.reason,
                "reference": waiver.reference,
                "accepted_by": waiver.accepted_by,
                "expires": waiver.expires.isoformat(),
            }
        if waived:
            applied.append(waiver.as_dict() | {"scenarios": [s.id for s in waived]})
        else:
            unused.append(waiver.as_dict() | {"note": _unused_note(matched)})
    return {
        "source": register.source,
        "sha256": register.sha256,
        "judged_on": today.isoformat(),
        "applied": applied,
        "expired": expired,
        "unused": unused,
    }


def _unused_note(matched: list[ScenarioResult]) -> str:
    """Why a live waiver waived nothing."""
    if not matched:
        return "matches no scenario of this run"
    outcomes: dict[str, int] = {}
    for scenario in matched:
        key = "waived by an earlier waiver" if scenario.outcome == WAIVED else scenario.outcome
        outcomes[key] = outcomes.get(key, 0) + 1
    found = ", ".join(f"{n} {what}" for what, n in outcomes.items())
    note = f"none of the {len(matched)} scenario(s) it matches is a failure or error to waive: {found}"
    if "not run" in outcomes:
        note += " (a scenario that did not run is not a known deviation)"
    return note


def restore(record: RunRecord) -> None:
    """Put every waived scenario of ``record`` back to its outcome before the register was applied."""
    for scenario in record.scenarios:
        if scenario.outcome == WAIVED and scenario.waived_outcome:
            scenario.outcome = scenario.waived_outcome
        scenario.waived_outcome, scenario.waiver = None, None
