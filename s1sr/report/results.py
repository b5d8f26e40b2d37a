"""The record of a run: one verdict per scenario example, and ``results.json``.

Verdicts are honest: ``passed``, ``failed`` (a documented behaviour does not
hold), ``error`` (the run could not tell: a device timed out, an adapter
crashed, a step is missing), ``not applicable`` (the clause is not in this S1SR
version, or Annex A does not map it to this device model) and ``not run``.

``results.json`` fields (stable; add, never rename):

- ``s1sr_version``: the S1SR version run;
- ``dmc``: the Device Model Combinations run, a list of ids;
- ``adapter``, ``s1sp``: the device adapter and the S1SP under test, by name;
- ``started``, ``finished``: ISO 8601 UTC; ``interrupted``: true when Ctrl-C, SIGTERM or a crash stopped
  the run (its unfinished scenarios are ``not run``);
- ``summary``: count per verdict;
- ``schema``: ``xsd`` (path or null), ``requests_validated``, ``responses_validated``, ``invalid``;
- ``scenarios``: per scenario example ``name``, ``feature``, ``feature_file``, ``clauses``,
  ``srvs``, ``dmc``, ``outcome``, ``duration_s``, ``reason``, ``steps`` (``keyword``, ``text``,
  ``line``, ``status``), ``mismatch`` (``what``, ``expected``, ``actual``, for a failed comparison),
  and ``evidence`` (per request:
  ``srv``, ``request_xml``, ``response_xml``, ``device_commands`` with the fields that came
  from Annex C under ``defaults``, schema and signature verdicts, outcomes).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

VERDICTS = ("passed", "failed", "error", "not applicable", "not run")


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
    evidence: list[dict[str, Any]] = field(default_factory=list)
    steps: list[dict[str, Any]] = field(default_factory=list)
    mismatch: dict[str, str] | None = None
    nodeid: str = ""


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

    def summary(self) -> dict[str, int]:
        """Count of scenarios per verdict."""
        counts = dict.fromkeys(VERDICTS, 0)
        for s in self.scenarios:
            counts[s.outcome] += 1
        return counts

    def by_clause(self) -> dict[str, dict[str, int]]:
        """Count per verdict for each clause (a scenario counts under each of its clauses)."""
        table: dict[str, dict[str, int]] = {}
        for s in self.scenarios:
            for clause in s.clauses or ["(no clause)"]:
                row = table.setdefault(clause, dict.fromkeys(VERDICTS, 0))
                row[s.outcome] += 1
        return dict(sorted(table.items(), key=lambda kv: _clause_key(kv[0])))

    def conformant(self) -> bool:
        """True when something ran and nothing failed, errored or was left unrun."""
        counts = self.summary()
        return counts["passed"] > 0 and counts["failed"] == counts["error"] == counts["not run"] == 0

    def as_dict(self) -> dict[str, Any]:
        """The JSON document."""
        return {
            "s1sr_version": self.s1sr_version,
            "dmc": self.dmc,
            "adapter": self.adapter,
            "s1sp": self.s1sp,
            "started": self.started,
            "finished": self.finished,
            "interrupted": self.interrupted,
            "summary": self.summary(),
            "schema": {
                "xsd": self.xsd,
                "requests_validated": self.requests_validated,
                "responses_validated": self.responses_validated,
                "invalid": self.invalid,
            },
            "scenarios": [{k: v for k, v in asdict(s).items() if k != "nodeid"} for s in self.scenarios],
        }


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _clause_key(clause: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in clause.split("."))
    except ValueError:
        return (10**6,)


def finish(record: RunRecord) -> None:
    """Stamp the finish time."""
    record.finished = _now()
