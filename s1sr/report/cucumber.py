"""``cucumber.json``: the Cucumber JSON report format that CI dashboards read."""

from __future__ import annotations

import io
import json
import re
from typing import Any, BinaryIO

from s1sr.report.results import RunRecord, ScenarioResult

STATUS = {"passed": "passed", "failed": "failed", "error": "failed", "undefined": "undefined", "not run": "skipped"}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def cucumber_json(record: RunRecord) -> bytes:
    """One feature object per feature file, one element per scenario example and DMC.

    The format has no place for a run's verdict, so every feature carries it as a tag
    (``@run-conformant``, ``@run-not-conformant``, ``@run-inconclusive``) and in its description.
    Nor for a known deviation: a ``waived`` scenario is tagged ``@waived``, its description names the
    waiver, and its failed (or errored) step is ``skipped``, as junit.xml has it, so a dashboard does not
    count a failure the run's verdict has accepted.
    """
    out = io.BytesIO()
    write_cucumber_json(record, out)
    return out.getvalue()


def write_cucumber_json(record: RunRecord, out: BinaryIO) -> None:
    """Write :func:`cucumber_json`'s bytes a feature at a time (a gate's record is never all in memory)."""
    verdict, reason = record.verdict_and_reason()
    run_tag = {"name": f"@run-{_slug(verdict)}", "line": 1}
    by_file: dict[str, list[ScenarioResult]] = {}
    for s in record.scenarios:
        by_file.setdefault(s.feature_file, []).append(s)
    if not by_file:
        out.write(b"[]")
        return
    out.write(b"[\n")
    for index, scenarios in enumerate(by_file.values()):
        feature = _feature(scenarios, verdict, reason, run_tag)
        text = json.dumps(feature, indent=2).replace("\n", "\n  ")
        out.write(("  " if index == 0 else ",\n  ").encode("utf-8") + text.encode("utf-8"))
    out.write(b"\n]")


def _feature(scenarios: list[ScenarioResult], verdict: str, reason: str, run_tag: dict[str, Any]) -> dict[str, Any]:
    """The feature object of one feature file's scenarios (the first names the feature and gives its tags)."""
    features: dict[str, dict[str, Any]] = {}
    for s in scenarios:
        feature = features.setdefault(
            s.feature_file,
            {
                "uri": s.feature_file,
                "id": _slug(s.feature or s.feature_file),
                "keyword": "Feature",
                "name": s.feature,
                "description": f"run verdict: {verdict} ({reason})",
                "line": 1,
                "tags": [{"name": f"@clause-{c}", "line": 1} for c in s.clauses] + [run_tag],
                "elements": [],
            },
        )
        steps = []
        waived = s.outcome == "waived"
        for step in s.steps or []:
            status = STATUS.get(step["status"], "skipped")
            if waived and status == "failed":
                status = "skipped"
            entry: dict[str, Any] = {
                "keyword": f"{step['keyword']} ",
                "name": step["text"],
                "line": step["line"],
                "match": {"location": ""},
                "result": {"status": status},
            }
            if status == "failed":
                entry["result"]["error_message"] = s.reason
            steps.append(entry)
        if not steps:  # not applicable or not run before its first step: say why in one skipped step
            steps.append(
                {
                    "keyword": "* ",
                    "name": f"{s.outcome}: {s.reason}",
                    "line": 1,
                    "match": {"location": ""},
                    "result": {"status": "skipped"},
                }
            )
        if steps:
            steps[-1]["result"]["duration"] = int(s.duration_s * 1e9)
        feature["elements"].append(
            {
                "id": f"{feature['id']};{_slug(s.id)}",
                "keyword": "Scenario",
                "name": f"{s.name} [{s.dmc}]",
                "description": _waiver_words(s.waived_outcome, s.waiver) if waived else "",
                "line": (s.steps[0]["line"] if s.steps else 1),
                "type": "scenario",
                "tags": [{"name": f"@clause-{c}", "line": 1} for c in s.clauses]
                + [{"name": f"@srv-{v}", "line": 1} for v in s.srvs]
                + [{"name": f"@dmc-{s.dmc}", "line": 1}, {"name": f"@{s.outcome.replace(' ', '-')}", "line": 1}],
                "steps": steps,
            }
        )
    return next(iter(features.values()))


def _waiver_words(outcome: str | None, waiver: dict[str, Any] | None) -> str:
    """A waived scenario's description: the outcome it had and the waiver that covers it."""
    if waiver is None:
        return f"waived ({outcome})"
    return (
        f"waived ({outcome}) by waiver {waiver['number']}: {waiver['reason']} [{waiver['reference']}], "
        f"accepted by {waiver['accepted_by']}, expires {waiver['expires']}"
    )
