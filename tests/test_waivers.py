"""The deviation register: known deviations reported waived, live until their expiry day, listed when expired or
unused; a run is CONFORMANT only when every non-pass is waived; a malformed register is one line, nothing run."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rich.console import Console

from s1sr.errors import ConfigError
from s1sr.report.results import RunRecord, ScenarioResult
from s1sr.report.waivers import load_waivers, parse_waivers
from tests.conftest import REPO, one_line_error, s1sr

FAILING = ["--s1sp", "tests.s1sp_variants:LabelsEveryFieldAnnexC", "--clause", "23", "--dmc", "secure-esme"]
#: The four scenarios of clause 23 that LabelsEveryFieldAnnexC fails (3 others pass), in file order.
FAILED = [
    "features/23-annex-c-defaults.feature:11[secure-esme]",
    "features/23-annex-c-defaults.feature:18[secure-esme]",
    "features/23-annex-c-defaults.feature:24[secure-esme]",
    "features/23-annex-c-defaults.feature:30[secure-esme]",
]


def waiver(covers: str, expires: str = "2099-12-31", *, reference: str = "S1SP-412", **extra: str) -> str:
    """One [[waiver]] table: ``covers`` is its ``scenario = ...`` or ``clause = ...`` line."""
    lines = [
        "[[waiver]]",
        covers,
        *(f'{key} = "{value}"' for key, value in extra.items()),
        'reason = "the S1SP labels fields it was given as Annex C defaults"',
        f'reference = "{reference}"',
        f"expires = {expires}",
        'accepted_by = "A. Release Manager"',
    ]
    return "\n".join(lines) + "\n\n"


def register(tmp_path: Path, *tables: str, name: str = "waivers.toml") -> Path:
    path = tmp_path / name
    path.write_text("".join(tables), encoding="utf-8")
    return path


def results(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "results.json").read_text())
    return data


def run(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return s1sr("run", *FAILING, "--no-archive", *args, env=env)


# --- end to end: the verdict a gate rests on -----------------------------------------------------


def test_waiving_every_failure_turns_a_not_conformant_run_conformant(tmp_path: Path) -> None:
    without = run(tmp_path, "--report-dir", str(tmp_path / "before"))
    assert without.returncode == 1, without.stdout + without.stderr
    assert "NOT CONFORMANT: 4 scenario(s) failed" in without.stdout
    path = register(
        tmp_path,
        waiver('clause = "23"', dmc="secure-esme"),
        waiver('scenario = "features/18.63-firmware-update-in-progress.feature:40"', reference="CR-1"),
        waiver('clause = "23"', "2020-01-01", reference="CR-0"),
    )
    done = run(tmp_path, "--report-dir", str(tmp_path / "r"), "--waivers", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    record = results(tmp_path / "r")
    assert record["verdict"] == "CONFORMANT" and record["exit_code"] == 0
    assert record["summary"] == {
        "passed": 3, "failed": 0, "error": 0, "waived": 4, "not applicable": 0, "not run": 0,
    }  # fmt: skip
    assert record["verdict_reason"] == ("every applicable scenario passed or is a known deviation: 3 passed, 4 waived")
    waived = [s for s in record["scenarios"] if s["outcome"] == "waived"]
    assert [s["id"] for s in waived] == FAILED
    assert {s["waived_outcome"] for s in waived} == {"failed"}
    assert waived[0]["waiver"] == {
        "number": 1,
        "reason": "the S1SP labels fields it was given as Annex C defaults",
        "reference": "S1SP-412",
        "accepted_by": "A. Release Manager",
        "expires": "2099-12-31",
    }
    assert "its evidence of where the value came from is false" in waived[0]["reason"]  # the failure, kept
    judged = record["waivers"]
    assert judged["source"] == str(path) and len(judged["sha256"]) == 64
    assert [(w["number"], w["scenarios"]) for w in judged["applied"]] == [(1, FAILED)]
    assert [(w["number"], w["expires"], w["would_cover"]) for w in judged["expired"]] == [(3, "2020-01-01", FAILED)]
    assert [(w["number"], w["note"]) for w in judged["unused"]] == [(2, "matches no scenario of this run")]
    lines = done.stdout.splitlines()
    assert "3 passed, 0 failed, 0 error, 4 waived, 0 not applicable, 0 not run" in lines
    assert f"deviation register {path}, judged on {judged['judged_on']}:" in lines
    assert (
        "  waiver 1 applied to 4 scenario(s) (clause 23 on secure-esme): the S1SP labels fields it was given as "
        "Annex C defaults [S1SP-412], accepted by A. Release Manager, expires 2099-12-31"
    ) in lines
    assert "  waiver 3 expired: live until 2020-01-01 (clause 23) [CR-0]; it would cover 4 scenario(s)" in lines
    assert (
        "  waiver 2 unused (scenario features/18.63-firmware-update-in-progress.feature:40) [CR-1]: "
        "matches no scenario of this run"
    ) in lines
    assert "CONFORMANT: every applicable scenario passed or is a known deviation: 3 passed, 4 waived" in lines


def test_three_of_four_failures_waived_is_still_not_conformant(tmp_path: Path) -> None:
    path = register(tmp_path, *(waiver(f'scenario = "{one}"') for one in FAILED[:3]))
    done = run(tmp_path, "--report-dir", str(tmp_path / "r"), "--waivers", str(path))
    assert done.returncode == 1, done.stdout + done.stderr
    record = results(tmp_path / "r")
    assert record["verdict"] == "NOT CONFORMANT"
    assert record["summary"]["failed"] == 1 and record["summary"]["waived"] == 3
    assert record["verdict_reason"] == (
        "1 scenario(s) failed: a documented behaviour does not hold; 3 waived as known deviation(s)"
    )
    assert [s["id"] for s in record["scenarios"] if s["outcome"] == "failed"] == FAILED[3:]


def test_an_expired_waiver_does_not_apply_and_is_listed_as_expired(tmp_path: Path) -> None:
    path = register(tmp_path, waiver('clause = "23"', "2020-01-01"))
    done = run(tmp_path, "--report-dir", str(tmp_path / "r"), "--waivers", str(path))
    assert done.returncode == 1, done.stdout + done.stderr
    record = results(tmp_path / "r")
    assert record["summary"]["failed"] == 4 and record["summary"]["waived"] == 0
    assert record["verdict_reason"] == "4 scenario(s) failed: a documented behaviour does not hold"
    assert [w["number"] for w in record["waivers"]["expired"]] == [1]
    assert record["waivers"]["applied"] == [] and record["waivers"]["unused"] == []
    assert "  waiver 1 expired: live until 2020-01-01 (clause 23) [S1SP-412]; it would cover 4 scenario(s)" in (
        done.stdout.splitlines()
    )


def test_junit_cucumber_and_the_manifest_carry_the_waivers(tmp_path: Path) -> None:
    path = register(tmp_path, waiver('clause = "23"'))
    archive = tmp_path / "runs"
    done = s1sr(
        "run", *FAILING, "--archive-dir", str(archive), "--waivers", str(path), "--report-dir", str(tmp_path / "r")
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    suite = ET.parse(tmp_path / "r" / "junit.xml").getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("failures"), suite.get("errors"), suite.get("skipped")) == ("0", "0", "4")
    properties = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
    assert properties["waived"] == "4" and properties["verdict"] == "CONFORMANT"
    skipped = [c for c in suite.findall("testcase") if c.find("skipped") is not None]
    assert len(skipped) == 4
    message = skipped[0].find("skipped").get("message")  # type: ignore[union-attr]
    assert message == (
        "waived (failed) by waiver 1: the S1SP labels fields it was given as Annex C defaults [S1SP-412], "
        "accepted by A. Release Manager, expires 2099-12-31"
    )
    features = json.loads((tmp_path / "r" / "cucumber.json").read_text())
    elements = [e for f in features for e in f["elements"]]
    waived = [e for e in elements if {"name": "@waived", "line": 1} in e["tags"]]
    assert len(waived) == 4
    assert all(s["result"]["status"] != "failed" for e in waived for s in e["steps"])
    assert waived[0]["description"].startswith("waived (failed) by waiver 1: ")
    folder = Path(done.stdout.splitlines()[-1].removeprefix("archive: "))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["verdict"] == "CONFORMANT"
    assert manifest["summary"]["waived"] == 4
    assert [(w["number"], w["reference"], w["scenarios"]) for w in manifest["waivers"]["applied"]] == [
        (1, "S1SP-412", FAILED)
    ]
    assert json.loads((folder / "results.json").read_text())["waivers"]["applied"][0]["scenarios"] == FAILED


def test_s1sr_report_applies_the_run_s_register_or_the_one_it_is_given(tmp_path: Path) -> None:
    path = register(tmp_path, waiver('clause = "23"'))
    journal = tmp_path / "run.jsonl"
    done = run(tmp_path, "--journal", str(journal), "--waivers", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    again = s1sr("report", str(journal), "--report-dir", str(tmp_path / "again"))
    assert again.returncode == 0, again.stdout + again.stderr  # the journal carries the run's register
    assert results(tmp_path / "again")["summary"]["waived"] == 4
    other = register(tmp_path, waiver(f'scenario = "{FAILED[0]}"'), name="other.toml")
    replaced = s1sr("report", str(journal), "--waivers", str(other), "--report-dir", str(tmp_path / "other"))
    assert replaced.returncode == 1, replaced.stdout + replaced.stderr
    record = results(tmp_path / "other")
    assert (record["summary"]["waived"], record["summary"]["failed"]) == (1, 3)
    assert record["waivers"]["source"] == str(other)


def test_pytest_takes_a_register_too(tmp_path: Path) -> None:
    path = register(tmp_path, waiver('clause = "23"'))
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "s1sr/suite", "--dmc", "secure-esme",
         "--s1sr-clause", "23", "--s1sr-s1sp", "tests.s1sp_variants:LabelsEveryFieldAnnexC",
         "--s1sr-waivers", str(path), "--s1sr-results", str(tmp_path / "r")],
        capture_output=True, text=True, cwd=REPO, timeout=600,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr  # pytest's own code: tests failed
    record = results(tmp_path / "r")
    assert record["verdict"] == "CONFORMANT" and record["summary"]["waived"] == 4


def test_the_closing_table_shows_waived_within_80_columns(tmp_path: Path) -> None:
    path = register(tmp_path, waiver('clause = "23"'))
    done = run(tmp_path, "--waivers", str(path), env={"COLUMNS": "80"})
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("S1SR 4.3 on "))
    end = next(i for i, line in enumerate(lines) if line.startswith("WAIVED "))
    table = lines[start + 1 : end]
    assert table and all(len(line) <= 80 for line in table)
    header = next(line for line in table if " clause " in line).split()
    assert header == ["clause", "title", "provenance", "passed", "failed", "error", "waived", "applicable", "run"]
    row = next(line for line in table if line.strip().startswith("23 ")).split()
    assert row[-6:] == ["3", "0", "0", "4", "0", "0"]


# --- a malformed register: one line, exit 2, nothing run -------------------------------------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (
            waiver('clause = "23"') + "expiry = 2026-01-01\n",
            "[[waiver]] 1: unknown key 'expiry'; the keys are scenario, clause, dmc, s1sr_version, reason, "
            "reference, expires, accepted_by",
        ),
        (
            waiver('clause = "23"').replace('reason = "the S1SP labels fields it was given as Annex C defaults"\n', ""),
            "[[waiver]] 1: has no 'reason'; add reason (required: reason, reference, expires, accepted_by)",
        ),
        (
            waiver('clause = "23"', '"2026-12-31"'),
            "[[waiver]] 1: 'expires' is '2026-12-31', not a TOML date; write a date without quotes, "
            "e.g. expires = 2026-12-31",
        ),
        (
            waiver('clause = "23"', "2026-12-31T12:00:00Z"),
            "[[waiver]] 1: 'expires' is datetime.datetime(2026, 12, 31, 12, 0, tzinfo=datetime.timezone.utc), "
            "not a TOML date; write a date without quotes, e.g. expires = 2026-12-31",
        ),
        (
            waiver('clause = "23"') + waiver('clause = "23"\nscenario = "features/x.feature:3"'),
            "[[waiver]] 2: names both a scenario and a clause, or neither; give one: scenario or clause",
        ),
        (
            waiver('dmc = "secure-esme"'),
            "[[waiver]] 1: names both a scenario and a clause, or neither; give one: scenario or clause",
        ),
        (
            waiver('clause = "18.99"'),
            "[[waiver]] 1: unknown clause '18.99'; name a clause s1sr clauses lists, e.g. 18.63",
        ),
        (
            waiver('clause = "23"', dmc="secure-esmee"),
            "[[waiver]] 1: unknown DMC 'secure-esmee'; choose one of",
        ),
        (
            waiver('scenario = "23-annex-c-defaults:11"'),
            "[[waiver]] 1: scenario '23-annex-c-defaults:11' is not a scenario id; copy the id from results.json, "
            "e.g. features/23-annex-c-defaults.feature:11[secure-esme]",
        ),
        (
            waiver(f'scenario = "{FAILED[0]}"', dmc="secure-gsme"),
            "[[waiver]] 1: names DMC secure-esme in its scenario id and secure-gsme in dmc; give one DMC",
        ),
        (
            waiver('clause = "23"', s1sr_version="4.9"),
            "[[waiver]] 1: s1sr_version '4.9' is not a known version spec; write a version of 4.2, 4.3, with +PACK "
            "for a modification pack in force",
        ),
        (
            waiver('clause = "23"', reference=" "),
            "[[waiver]] 1: 'reference' is empty; say what reference is, or leave the key out if optional",
        ),
        (
            waiver("clause = 23"),
            "[[waiver]] 1: 'clause' is 23, not a text; write it in quotes, e.g. clause = \"...\"",
        ),
        ("[waivers]\nclause = 23\n", "has an unknown table or key 'waivers'; a register holds only [[waiver]] tables"),
        ("[[waiver]\nclause = 23\n", "is not valid TOML ("),
    ],
    ids=[
        "unknown-key", "missing-reason", "quoted-date", "datetime", "both", "neither", "unknown-clause",
        "unknown-dmc", "not-an-id", "two-dmcs", "unknown-version", "empty-text", "number", "unknown-table", "not-toml",
    ],
)  # fmt: skip
def test_a_malformed_register_is_one_line_naming_the_file_and_the_waiver(tmp_path: Path, text: str, line: str) -> None:
    path = register(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_waivers(path)
    assert caught.value.line().startswith(f"{path}: {line}")
    assert "\n" not in caught.value.line()


def test_a_malformed_register_stops_the_run_before_anything_runs(tmp_path: Path) -> None:
    path = register(tmp_path, waiver('clause = "23"') + "expiry = 2026-01-01\n")
    archive = tmp_path / "runs"
    done = s1sr(
        "run", *FAILING, "--waivers", str(path), "--report-dir", str(tmp_path / "r"), "--archive-dir", str(archive)
    )  # fmt: skip
    assert one_line_error(done) == (
        f"s1sr: error: {path}: [[waiver]] 1: unknown key 'expiry'; the keys are scenario, clause, dmc, "
        "s1sr_version, reason, reference, expires, accepted_by"
    )
    assert done.stdout == ""
    assert not (tmp_path / "r").exists() and not archive.exists()  # nothing written, nothing archived


@pytest.mark.parametrize(
    ("make", "line"),
    [
        (lambda p: p, "cannot read the deviation register (No such file or directory); name a TOML file of [[waiver]]"),
        (lambda p: (p.mkdir(), p)[1], "is a folder, not a deviation register; name a TOML file of [[waiver]]"),
        (
            lambda p: (p.write_bytes(b"#" * (1024 * 1024 + 1)), p)[1],
            "is larger than 1024 KiB: not a deviation register; split it or trim it",
        ),
        (lambda p: (p.write_bytes(b"\xff\xfe"), p)[1], "is not UTF-8 text; save the register as UTF-8"),
    ],
    ids=["missing", "folder", "too-large", "not-utf8"],
)
def test_a_register_that_cannot_be_read_is_one_line(tmp_path: Path, make: Any, line: str) -> None:
    path = make(tmp_path / "waivers.toml")
    with pytest.raises(ConfigError) as caught:
        load_waivers(path)
    assert caught.value.line() == f"{path}: {line}"


def test_a_register_at_the_size_bound_is_read(tmp_path: Path) -> None:
    text = waiver('clause = "23"').encode()
    path = tmp_path / "waivers.toml"
    path.write_bytes(text + b"#" * (1024 * 1024 - len(text)))
    assert len(load_waivers(path).waivers) == 1


# --- judging: expiry on the boundary day, what may be waived, what a waiver covers -----------------


def scenario(sid: str, outcome: str, clauses: tuple[str, ...] = ("23",), dmc: str = "secure-esme") -> ScenarioResult:
    return ScenarioResult(
        name=sid, feature="f", feature_file="features/x.feature", clauses=list(clauses), srvs=[], dmc=dmc,
        outcome=outcome, id=f"{sid}[{dmc}]", reason=f"{outcome} here",
    )  # fmt: skip


def judged(text: str, today: date, *scenarios: ScenarioResult, version: str = "4.3") -> RunRecord:
    record = RunRecord(version, ["secure-esme", "secure-gsme"], xsd="duis.xsd", scenarios=list(scenarios))
    record.use_waivers(parse_waivers(text.encode(), "waivers.toml"))
    record.apply_waivers(today)
    return record


def test_a_waiver_is_live_on_its_expiry_day_and_expired_the_day_after() -> None:
    text = waiver('clause = "23"', "2026-11-26")
    on_the_day = judged(text, date(2026, 11, 26), scenario("features/x.feature:3", "failed"))
    assert on_the_day.summary()["waived"] == 1 and on_the_day.verdict() == "CONFORMANT"
    assert on_the_day.deviations is not None and on_the_day.deviations["judged_on"] == "2026-11-26"
    day_after = judged(text, date(2026, 11, 27), scenario("features/x.feature:3", "failed"))
    assert day_after.summary()["failed"] == 1 and day_after.verdict() == "NOT CONFORMANT"
    assert day_after.deviations is not None
    assert [w["number"] for w in day_after.deviations["expired"]] == [1]


def test_an_error_is_waived_but_a_scenario_that_did_not_run_is_not() -> None:
    text = waiver('clause = "23"')
    record = judged(
        text, date(2026, 11, 26), scenario("features/x.feature:3", "error"), scenario("features/x.feature:9", "passed")
    )
    assert record.verdict_and_reason() == (
        "CONFORMANT", "every applicable scenario passed or is a known deviation: 1 passed, 1 waived",
    )  # fmt: skip
    assert record.scenarios[0].waived_outcome == "error"
    not_run = judged(text, date(2026, 11, 26), scenario("features/x.feature:3", "not run"))
    assert not_run.verdict_and_reason() == (
        "INCONCLUSIVE",
        "no failure, but the system under test was not fully judged (1 not run)",
    )
    assert not_run.deviations is not None
    assert [w["note"] for w in not_run.deviations["unused"]] == [
        "none of the 1 scenario(s) it matches is a failure or error to waive: 1 not run "
        "(a scenario that did not run is not a known deviation)"
    ]


def test_a_waived_error_beside_an_unwaived_one_is_inconclusive() -> None:
    text = waiver('scenario = "features/x.feature:3"')
    record = judged(
        text, date(2026, 11, 26), scenario("features/x.feature:3", "error"), scenario("features/x.feature:9", "error")
    )
    assert record.verdict_and_reason() == (
        "INCONCLUSIVE",
        "no failure, but the system under test was not fully judged (1 error); 1 waived as known deviation(s)",
    )


def test_what_a_waiver_covers_by_id_dmc_row_and_version() -> None:
    esme = scenario("features/x.feature:3", "failed")
    gsme = scenario("features/x.feature:3", "failed", dmc="secure-gsme")
    row = scenario("features/x.feature:5:9#2", "failed")
    other = scenario("features/x.feature:30", "failed")
    text = waiver('scenario = "features/x.feature:3"') + waiver(
        'scenario = "features/x.feature:5"', reference="rows"
    )  # fmt: skip
    record = judged(text, date(2026, 11, 26), esme, gsme, row, other)
    assert [s.outcome for s in record.scenarios] == ["waived", "waived", "waived", "failed"]
    assert [s.waiver["number"] for s in record.scenarios[:3]] == [1, 1, 2]  # type: ignore[index]
    only_esme = judged(
        waiver('scenario = "features/x.feature:3[secure-esme]"'), date(2026, 11, 26),
        scenario("features/x.feature:3", "failed"), scenario("features/x.feature:3", "failed", dmc="secure-gsme"),
    )  # fmt: skip
    assert [s.outcome for s in only_esme.scenarios] == ["waived", "failed"]
    by_dmc = judged(
        waiver('clause = "23"', dmc="secure-gsme"), date(2026, 11, 26),
        scenario("features/x.feature:3", "failed"), scenario("features/x.feature:3", "failed", dmc="secure-gsme"),
    )  # fmt: skip
    assert [s.outcome for s in by_dmc.scenarios] == ["failed", "waived"]
    by_version = waiver('clause = "23"', s1sr_version="4.3+mp312")
    assert judged(by_version, date(2026, 11, 26), scenario("a.feature:1", "failed"), version="4.3+MP312").verdict() == (
        "CONFORMANT"
    )
    assert judged(by_version, date(2026, 11, 26), scenario("a.feature:1", "failed"), version="4.3").verdict() == (
        "NOT CONFORMANT"
    )


def test_a_scenario_two_waivers_cover_is_waived_by_the_first_and_the_second_is_unused() -> None:
    text = waiver('clause = "23"') + waiver('scenario = "features/x.feature:3"', reference="second")
    record = judged(text, date(2026, 11, 26), scenario("features/x.feature:3", "failed"))
    assert record.scenarios[0].waiver is not None and record.scenarios[0].waiver["number"] == 1
    assert record.deviations is not None
    assert [(w["number"], w["note"]) for w in record.deviations["unused"]] == [
        (2, "none of the 1 scenario(s) it matches is a failure or error to waive: 1 waived by an earlier waiver")
    ]


def test_another_register_restores_what_the_first_waived() -> None:
    record = judged(waiver('clause = "23"'), date(2026, 11, 26), scenario("features/x.feature:3", "failed"))
    assert record.verdict() == "CONFORMANT"
    record.use_waivers(None)
    assert record.verdict() == "NOT CONFORMANT"
    assert (record.scenarios[0].outcome, record.scenarios[0].waived_outcome, record.scenarios[0].waiver) == (
        "failed", None, None,
    )  # fmt: skip


def test_without_a_register_the_record_is_as_before() -> None:
    record = RunRecord("4.3", ["secure-esme"], xsd="duis.xsd", scenarios=[scenario("features/x.feature:3", "failed")])
    assert record.shown_verdicts() == ("passed", "failed", "error", "not applicable", "not run")
    assert record.as_dict()["waivers"] is None
    assert record.summary() == {
        "passed": 0, "failed": 1, "error": 0, "waived": 0, "not applicable": 0, "not run": 0,
    }  # fmt: skip


# --- the live tally ------------------------------------------------------------------------------


def test_the_progress_bar_counts_failures_and_errors_as_they_finish_within_80_columns() -> None:
    from s1sr.runner import LiveView

    screen = io.StringIO()
    view = LiveView(Console(file=screen, width=80, force_terminal=True))
    view.start(290)
    try:
        for outcome in ("failed", "passed", "error", "failed", "not applicable"):
            view.pytest_runtest_logreport(SimpleNamespace(when="call", user_properties=[]))  # type: ignore[arg-type]
            report = SimpleNamespace(when="teardown", user_properties=[("s1sr_outcome", outcome)])
            view.pytest_runtest_logreport(report)  # type: ignore[arg-type]
            view.progress.advance(view.task)
    finally:
        view.progress.stop()
    assert view.tally["failed"] == 2 and view.tally["error"] == 1 and view.tally["passed"] == 1
    shown = io.StringIO()
    Console(file=shown, width=80, color_system=None).print(view.progress.get_renderable())
    line = shown.getvalue().splitlines()[0]
    assert len(line) <= 80
    assert "5/290 2 failed  1 error" in line and line.startswith("S1SR scenarios")
