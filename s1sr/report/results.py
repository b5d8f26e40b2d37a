"""The record of a run: one verdict per scenario example, and ``results.json``.

A run's processes journal each scenario as it finishes (:mod:`s1sr.report.journal`); the record that the
reports render is rebuilt from one or more journals, so workers, shards and a killed run give one record.

Verdicts are honest: ``passed``, ``failed`` (a documented behaviour does not
hold), ``error`` (the run could not tell: a device timed out, an adapter
crashed or broke its contract, a step is missing), ``not applicable`` (the clause
is not in this S1SR version, or Annex A does not map it to this device model) and
``not run`` (selected, but the run ended before it). Scenarios that ``-k``, ``-m``,
``--deselect`` or ``--clause`` leave out are not in the record at all. A sixth,
``waived``, is never what a run found but a judgement made when the record is rendered:
a ``failed`` or ``error`` scenario that a live waiver of the run's deviation register
covers (:mod:`s1sr.report.waivers`), its outcome before kept as ``waived_outcome``.

A run has one of three verdicts (:data:`RUN_VERDICTS`), never confused:
CONFORMANT (something applicable was judged, and every selected applicable scenario
passed or is waived), NOT CONFORMANT (at least one failed, unwaived) and INCONCLUSIVE
(no unwaived failure, but the system under test was not fully judged: unwaived errors,
scenarios not run, or nothing applicable at all).

``results.json`` fields (stable; add, never rename):

- ``s1sr_version``: the S1SR version run;
- ``dmc``: the Device Model Combinations run, a list of ids;
- ``adapter``, ``s1sp``: the device adapter and the S1SP under test, by name;
- ``tool``: what produced the record: ``s1sr`` (the tool's version), ``hosts``, ``source`` (``commit`` and
  ``dirty`` of the checkout the features, steps and package came from; null from a plain install),
  ``features_sha256`` and ``catalogue_sha256`` (what the journal's headers say was run), and ``signing``
  (``s1sr run`` only): ``source``, ``responses`` (``sha256`` of the DER and ``subject`` of each certificate the
  SMETS1 Responses are signed with, or trusted to be over DUIS), ``user`` (the User's certificate over DUIS,
  else null), ``note`` (why a fingerprint is absent, else null);
- ``archive``: ``id`` and ``name`` of the run's folder in the archive of runs, or null when not archived;
- ``started``, ``finished``: ISO 8601 UTC; ``interrupted``: true when Ctrl-C, SIGTERM or a crash stopped
  the run (its unfinished scenarios are ``not run``);
- ``verdict``: ``CONFORMANT``, ``NOT CONFORMANT`` or ``INCONCLUSIVE``; ``verdict_reason``: why, in words;
  ``exit_code``: what ``s1sr run`` exits with for it (0, 1, 3; 130 when interrupted);
- ``summary``: count per outcome: ``passed``, ``failed``, ``error``, ``waived``, ``not applicable``, ``not run``;
- ``waivers``: null without a deviation register; else ``source``, ``sha256`` (of the register file),
  ``judged_on`` (the UTC date its expiries were judged on), and lists of waivers (each ``number``,
  ``scenario`` or ``clause``, ``dmc``, ``s1sr_version``, ``reason``, ``reference``, ``expires``,
  ``accepted_by``): ``applied`` (with the ids of the ``scenarios`` each waived), ``expired`` (with
  ``would_cover``, the non-passes it would have waived) and ``unused`` (with a ``note`` saying why);
- ``not_observable``: ``steps``, the device-side steps the target could not observe (the harness over
  DUIS sees what a User sees), and ``passed_scenarios``, the passed scenarios holding any;
- ``schema``: ``xsd`` (path or null), ``requests_validated``, ``responses_validated``, ``invalid``;
- ``scenarios``: per scenario example ``id`` (unique and stable: feature file, scenario line, Examples
  line and row, DMC), ``name`` (unique within a DMC: outline rows whose rendered names coincide carry
  their example values), ``feature``, ``feature_file``, ``clauses``,
  ``srvs``, ``dmc``, ``outcome``, ``waived_outcome`` (the outcome a waiver turned into ``waived``, else
  null), ``waiver`` (its ``number``, ``reason``, ``reference``, ``accepted_by``, ``expires``, else null),
  ``duration_s``, ``reason``, ``steps`` (``keyword``, ``text``,
  ``line``, ``status``: passed, failed, error, undefined, not run, or not observable),
  ``not_observed`` (those device-side steps, as written), ``rig`` (the lab rig of the run's pool it ran
  on, by name; empty without a pool), ``mismatch`` (``what``, ``expected``,
  ``actual``, for a failed comparison),
  and ``evidence`` (per request:
  ``srv``, ``sent_at`` (when the request was sent: UTC, ISO 8601 to the millisecond, by the wall clock),
  ``duration_s``, ``request_xml``, ``response_xml``, ``device_commands`` with ``sources`` (where each field's
  value came from, as the harness finds it from the request and the catalogue) beside ``defaults`` (the
  S1SP's own label, on which no verdict rests), schema and signature verdicts, outcomes).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Any, BinaryIO

from s1sr.catalogue import clause_key
from s1sr.observability import PREDATED
from s1sr.report.waivers import WAIVED, WaiverRegister, judge, restore, today_utc

#: What running a scenario example can end in: what the journal records.
OUTCOMES = ("passed", "failed", "error", "not applicable", "not run")
#: Every outcome a record reports: those, and ``waived`` (a failure or error a live waiver covers).
VERDICTS = ("passed", "failed", "error", WAIVED, "not applicable", "not run")

CONFORMANT = "CONFORMANT"
NOT_CONFORMANT = "NOT CONFORMANT"
INCONCLUSIVE = "INCONCLUSIVE"
#: The verdicts of a run, and the exit code of ``s1sr run`` for each.
RUN_VERDICTS = {CONFORMANT: 0, NOT_CONFORMANT: 1, INCONCLUSIVE: 3}
#: Exit code of a run stopped by Ctrl-C or SIGTERM (its reports are still written, unfinished = not run).
INTERRUPTED_EXIT = 130


@dataclass
class ScenarioResult:
    """The verdict on one scenario example for one DMC."""

    name: str
    feature: str
    feature_file: str
    clauses: list[str]
    srvs: list[str]
    dmc: str
    outcome: str = "not run"
    duration_s: float = 0.0
    reason: str = ""
    #: Per request; a list, or (a journaled scenario) :class:`~s1sr.report.evidence.JournaledEvidence` read on demand.
    evidence: Sequence[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    mismatch: dict[str, str] | None = None
    nodeid: str = ""
    id: str = ""
    example: dict[str, str] = field(default_factory=dict)
    #: Its place in the run's selection before ``--shard`` split it (journal only: merged shards keep one order).
    position: int = 0
    #: Its device-side steps the target could not observe ("Then the meter received ..."), as written.
    not_observed: list[str] = field(default_factory=list)
    #: The outcome a live waiver turned into ``waived`` (None when not waived).
    waived_outcome: str | None = None
    #: The waiver that did: ``number``, ``reason``, ``reference``, ``accepted_by``, ``expires`` (None when not waived).
    waiver: dict[str, Any] | None = None
    #: The lab rig it ran on, by its name in the run's pool (``--pool``, ``--device-url`` repeated); empty otherwise.
    rig: str = ""


@dataclass
class RunRecord:
    """Everything ``results.json`` holds."""

    s1sr_version: str
    dmc: list[str]
    started: str = field(default_factory=lambda: _now())
    finished: str = ""
    xsd: str | None = None
    adapter: str = "simulated"
    s1sp: str = "reference"
    interrupted: bool = False
    requests_validated: int = 0
    responses_validated: int = 0
    invalid: int = 0
    scenarios: list[ScenarioResult] = field(default_factory=list)
    #: What produced the record: ``s1sr`` (tool version), ``hosts``, ``source`` (commit and dirty flag, or None),
    #: ``signing`` (certificate fingerprints, from ``s1sr run``).
    tool: dict[str, Any] = field(default_factory=dict)
    #: The run's folder in the archive of runs: ``{"id", "name"}`` (None: not archived).
    archive: dict[str, str] | None = None
    #: The deviation register in force (None: none); judged by :meth:`apply_waivers`.
    waiver_register: WaiverRegister | None = None
    #: The register's judgement once applied (``results.json``'s ``waivers``); None before, or without a register.
    deviations: dict[str, Any] | None = None

    def use_waivers(self, register: WaiverRegister | None) -> None:
        """Put ``register`` in force instead of any before (whose waived scenarios get their outcomes back)."""
        restore(self)
        self.waiver_register, self.deviations = register, None

    def apply_waivers(self, today: date | None = None) -> None:
        """Judge the register in force on ``today`` (UTC today by default), once: covered non-passes become waived.

        Counting and rendering call it before reading outcomes (so no verdict is given without the register);
        it does nothing when already applied or without a register, so one record is judged on one day however
        many reports read it. A test judges on a day of its choosing by calling it first.
        """
        if self.waiver_register is not None and self.deviations is None:
            self.deviations = judge(self, self.waiver_register, today or today_utc())

    def shown_verdicts(self) -> tuple[str, ...]:
        """The outcomes a table shows: ``waived`` only when a register is in force (or something is waived)."""
        if self.waiver_register is not None or any(s.outcome == WAIVED for s in self.scenarios):
            return VERDICTS
        return tuple(v for v in VERDICTS if v != WAIVED)

    def summary(self) -> dict[str, int]:
        """Count of scenarios per outcome (``waived`` included, zero without a register)."""
        self.apply_waivers()
        counts = dict.fromkeys(VERDICTS, 0)
        for s in self.scenarios:
            counts[s.outcome] += 1
        return counts

    def by_clause(self) -> dict[str, dict[str, int]]:
        """Count per outcome for each clause (a scenario counts under each of its clauses)."""
        self.apply_waivers()
        table: dict[str, dict[str, int]] = {}
        for s in self.scenarios:
            for clause in s.clauses or ["(no clause)"]:
                row = table.setdefault(clause, dict.fromkeys(VERDICTS, 0))
                row[s.outcome] += 1
        return dict(sorted(table.items(), key=lambda kv: clause_key(kv[0])))

    def not_observable(self) -> dict[str, int]:
        """Device-side steps the target could not observe: how many, in how many passed scenarios."""
        passed = [s for s in self.scenarios if s.outcome == "passed" and s.not_observed]
        return {
            "steps": sum(len(s.not_observed) for s in self.scenarios),
            "passed_scenarios": len(passed),
        }

    def verdict(self) -> str:
        """CONFORMANT, NOT CONFORMANT or INCONCLUSIVE (see the module docstring)."""
        return self.verdict_and_reason()[0]

    def verdict_and_reason(self) -> tuple[str, str]:
        """The run's verdict and, in words, why (saying so when no DUIS schema checked the exchanges)."""
        verdict, reason = self._verdict_and_reason()
        if self.xsd is None:
            reason += "; the DUIS schema was not checked (no --xsd, S1SR_DUIS_XSD or [tool.s1sr] duis_xsd)"
        return verdict, reason

    def _verdict_and_reason(self) -> tuple[str, str]:
        counts = self.summary()
        waived = counts[WAIVED]
        also = f"; {waived} waived as known deviation(s)" if waived else ""
        if counts["failed"]:
            return NOT_CONFORMANT, (
                f"{counts['failed']} scenario(s) failed: a documented behaviour does not hold{also}"
            )
        unjudged = [f"{counts[v]} {v}" for v in ("error", "not run") if counts[v]]
        if unjudged:
            return INCONCLUSIVE, (
                f"no failure, but the system under test was not fully judged ({', '.join(unjudged)}){also}"
            )
        if not counts["passed"] and not waived:
            return INCONCLUSIVE, "nothing applicable was judged: no selected scenario applies to this version and DMC"
        if waived:
            head = (
                f"every applicable scenario passed or is a known deviation: {counts['passed']} passed, {waived} waived"
            )
        else:
            head = f"all {counts['passed']} applicable scenario(s) passed"
        unseen = self.not_observable()
        if unseen["passed_scenarios"]:
            head += (
                f"; {unseen['passed_scenarios']} of them "
                f"with {unseen['steps']} device-side step(s) not observable on this target"
            )
        predated = sum(s.outcome == "not applicable" and s.reason.startswith(PREDATED) for s in self.scenarios)
        if predated:
            head += (
                f"; {predated} scenario(s) not judged: the S1SP may have answered them from a cache filled before "
                "they began (run them in process, or each on a freshly started endpoint)"
            )
        return CONFORMANT, head

    def exit_code(self) -> int:
        """What ``s1sr run`` exits with: 0, 1 or 3 by verdict; 130 when the run was interrupted."""
        return INTERRUPTED_EXIT if self.interrupted else RUN_VERDICTS[self.verdict()]

    def as_dict(self) -> dict[str, Any]:
        """The JSON document."""
        return self._head() | {"scenarios": [scenario_dict(s) for s in self.scenarios]}

    def _head(self) -> dict[str, Any]:
        """The JSON document but its ``scenarios``."""
        return {
            "s1sr_version": self.s1sr_version,
            "dmc": self.dmc,
            "adapter": self.adapter,
            "s1sp": self.s1sp,
            "started": self.started,
            "finished": self.finished,
            "interrupted": self.interrupted,
            "tool": self.tool,
            "archive": self.archive,
            "verdict": self.verdict(),
            "verdict_reason": self.verdict_and_reason()[1],
            "exit_code": self.exit_code(),
            "summary": self.summary(),
            "waivers": self.deviations,
            "not_observable": self.not_observable(),
            "schema": {
                "xsd": self.xsd,
                "requests_validated": self.requests_validated,
                "responses_validated": self.responses_validated,
                "invalid": self.invalid,
            },
        }

    def write_json(self, out: BinaryIO) -> None:
        """Write ``results.json`` (:meth:`as_dict`), indented by two, each exchange of the evidence on one line.

        Written a scenario at a time, so a record whose evidence is in its journal is never all in memory;
        an exchange on one line is written by the json module's C encoder, about five times faster than indenting
        it (the evidence is nearly all of a gate's record), and one line per exchange reads well with ``grep``.
        """
        text = json.dumps(self._head() | {"scenarios": []}, indent=2)
        if not self.scenarios:
            out.write(text.encode("utf-8") + b"\n")
            return
        opening, _, _ = text.rpartition("[]")
        out.write(opening.encode("utf-8") + b"[\n")
        for index, scenario in enumerate(self.scenarios):
            out.write(b"    {\n" if index == 0 else b",\n    {\n")
            members = []
            for key, value in scenario_dict(scenario).items():
                if key == "evidence" and value:
                    shown = "[\n" + ",\n".join(f"        {json.dumps(e)}" for e in value) + "\n      ]"
                else:
                    shown = json.dumps(value, indent=2).replace("\n", "\n      ")
                members.append(f"      {json.dumps(key)}: {shown}")
            out.write(",\n".join(members).encode("utf-8") + b"\n    }")
        out.write(b"\n  ]\n}\n")


#: Fields of :class:`ScenarioResult` that ``results.json`` leaves out (the journal keeps them).
_INTERNAL = ("nodeid", "id", "position")
#: The fields ``results.json`` has, in their order.
_FIELDS = tuple(f.name for f in fields(ScenarioResult) if f.name not in _INTERNAL)


def scenario_dict(s: ScenarioResult) -> dict[str, Any]:
    """A scenario as ``results.json`` has it (``id`` first), its evidence read (from the journal, if there).

    The values are the scenario's own, not copies: write the dictionary out, do not keep it.
    """
    data: dict[str, Any] = {"id": s.id}
    for name in _FIELDS:
        value = getattr(s, name)
        data[name] = list(value) if name == "evidence" else value
    return data


def scenario_from_dict(data: dict[str, Any]) -> ScenarioResult:
    """A scenario back from :func:`scenario_dict` or a journal line (other keys ignored, missing ones defaulted)."""
    known = {f.name for f in fields(ScenarioResult)}
    return ScenarioResult(**{k: v for k, v in data.items() if k in known})


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def finish(record: RunRecord) -> None:
    """Stamp the finish time."""
    record.finished = _now()
