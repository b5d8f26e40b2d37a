"""Runs with modification packs in force: the reference S1SP passes, wrong S1SPs are caught, diff says what differs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from s1sr.catalogue import CATALOGUE_DIR_ENV
from tests.conftest import REPO, s1sr

VARIED = REPO / "fixtures" / "catalogue-varied"

VARIANTS = "tests.s1sp_access_variants:"


def _run(tmp_path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    done = s1sr("run", "--no-archive", "--report-dir", str(tmp_path), *args)
    assert done.returncode in (0, 1, 3), done.stdout + done.stderr
    return done.returncode, json.loads((tmp_path / "results.json").read_text())


def _outcomes(results: dict[str, Any], clause: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for s in results["scenarios"]:
        if clause in s["clauses"]:
            found[s["outcome"]] = found.get(s["outcome"], 0) + 1
    return found


@pytest.mark.parametrize(
    ("pack", "clauses", "dmc", "applicable"),
    [
        ("MP312", ["MP312.1"], "secure-esme", {"MP312.1": 10}),
        ("MP162", ["MP162.1", "MP162.2"], "secure-esme", {"MP162.1": 11, "MP162.2": 6}),
        ("MP162", ["MP162.1", "MP162.2"], "secure-gsme", {"MP162.1": 9, "MP162.2": 1}),
        ("MP184", ["MP184.1"], "secure-esme-twin", {"MP184.1": 3}),
    ],
)
def test_each_pack_passes_on_the_reference_s1sp_and_is_not_applicable_without_it(
    tmp_path: Path, pack: str, clauses: list[str], dmc: str, applicable: dict[str, int]
) -> None:
    selection = [a for c in clauses for a in ("--clause", c)]
    code, results = _run(tmp_path / "with", "--modification", pack, "--dmc", dmc, *selection)
    assert code == 0
    assert results["s1sr_version"] == f"4.3+{pack}"
    for clause, count in applicable.items():
        assert _outcomes(results, clause).get("passed") == count, clause
        assert _outcomes(results, clause).get("failed", 0) == 0
    code, without = _run(tmp_path / "without", "--dmc", dmc, *selection)
    assert code == 3  # nothing applicable: INCONCLUSIVE
    reasons = {s["reason"] for s in without["scenarios"]}
    assert reasons == {f"describes {pack}, which is not in force in this run (add --modification {pack})"}


@pytest.mark.parametrize(
    ("variant", "pack", "dmc", "failing"),
    [
        ("ReadsDeviceEveryTime", "MP312", "secure-esme", {"MP312.1": 5}),
        ("CachesForever", "MP312", "secure-esme", {"MP312.1": 4}),
        ("CachesBeforeAccessCheck", "MP312", "secure-esme", {"MP312.1": 1, "DUIS.1": 1}),
        ("ReadsDeviceEveryTime", "MP162", "secure-esme", {"MP162.2": 2}),
        ("CachesForever", "MP162", "secure-esme", {"MP162.2": 2}),
        ("CachesBeforeAccessCheck", "MP162", "secure-esme", {"MP162.1": 2, "MP162.2": 1, "DUIS.1": 2}),
        ("IgnoresDeviceCompatibility", "MP184", "secure-esme-twin", {"MP184.1": 2}),
        ("IgnoresRoleEligibility", "MP162", "secure-esme", {"MP162.1": 10, "MP162.2": 1, "DUIS.1": 21}),
        ("IgnoresDeviceCompatibility", "MP162", "secure-gsme", {"MP162.1": 1, "DUIS.1": 3}),
    ],
)
def test_a_wrong_s1sp_fails_the_pack_scenarios(
    tmp_path: Path, variant: str, pack: str, dmc: str, failing: dict[str, int]
) -> None:
    code, results = _run(tmp_path, "--modification", pack, "--dmc", dmc, "--s1sp", VARIANTS + variant)
    assert code == 1
    found: dict[str, int] = {}
    for s in results["scenarios"]:
        if s["outcome"] == "failed":
            for clause in s["clauses"]:
                found[clause] = found.get(clause, 0) + 1
        assert s["outcome"] != "error", (s["name"], s["reason"])
    assert found == failing


def test_diff_names_the_clause_a_pack_adds_and_the_behaviour_that_differs(tmp_path: Path) -> None:
    done = s1sr("diff", "4.3", "4.3+MP312", "--dmc", "secure-esme", "--report-dir", str(tmp_path), "--json")
    assert done.returncode == 0, done.stderr
    diff = json.loads(done.stdout)
    clauses = {c["id"]: c for c in diff["clauses"]}
    added = clauses["MP312.1"]
    assert (added["status"], added["in_a"], added["in_b"], added["scenarios_b"]) == ("added", False, True, 10)
    assert len(added["a_fails_b"]) == 5
    assert "0 seconds after the read, the same read is answered from the cache [secure-esme]" in added["a_fails_b"]
    assert {c["status"] for i, c in clauses.items() if i != "MP312.1"} == {"unchanged"}
    assert diff["modifications"] == {"a": [], "b": ["MP312"]}
    assert diff["srv_rules"] == []
    markdown = (tmp_path / "diff.md").read_text()
    assert "| MP312.1 | SRV 4.10 answered from the S1SP's cache | added |" in markdown


def test_diff_of_mp162_shows_the_rules_it_changes(tmp_path: Path) -> None:
    done = s1sr("diff", "4.3", "4.3+MP162", "--dmc", "secure-esme", "--json")
    assert done.returncode == 0, done.stderr
    rules = {r["srv"]: r for r in json.loads(done.stdout)["srv_rules"]}
    assert sorted(rules) == ["4.1.1", "4.2", "4.8.1", "4.8.3"]
    assert rules["4.2"]["changes"] == {
        "roles": {"a": ["ES", "ED"], "b": ["ES", "ED", "MDR"]},
        "dcc_scheduled": {"a": False, "b": True},
    }
    assert rules["4.8.1"]["changed_by"] == "MP162"


def test_an_s1sp_that_hard_codes_the_shipped_cache_periods_fails_the_varied_catalogue(tmp_path: Path) -> None:
    """fixtures/catalogue-varied's packs cache for 900 s (4.10) and 1200 s (half-hourly), with their own features."""
    env = {CATALOGUE_DIR_ENV: str(VARIED)}
    common = ["--modification", "MP312", "--modification", "MP162", "--dmc", "secure-esme"]
    common += ["--features", str(VARIED / "features"), "--clause", "MP312.1", "--clause", "MP162.2"]
    reference = s1sr("run", "--no-archive", *common, "--report-dir", str(tmp_path / "ref"), env=env)
    assert reference.returncode == 0, reference.stdout + reference.stderr
    # 4.10 at 899 s cached, 900, 901 and 1799 s read again; half-hourly at 1199 s cached, 1200, 1201, 3599 read again
    assert json.loads((tmp_path / "ref" / "results.json").read_text())["summary"]["passed"] == 8
    fixed = s1sr(
        "run", "--no-archive", *common, "--s1sp", VARIANTS + "HardCodesCachePeriods",
        "--report-dir", str(tmp_path / "fixed"), env=env,
    )  # fmt: skip
    assert fixed.returncode == 1
    failed = [s["name"] for s in json.loads((tmp_path / "fixed" / "results.json").read_text())["scenarios"]
              if s["outcome"] == "failed"]  # fmt: skip
    assert len(failed) == 6
    shipped = s1sr("run", "--no-archive", "--modification", "MP312", "--dmc", "secure-esme", "--clause", "MP312.1",
                   "--s1sp", VARIANTS + "HardCodesCachePeriods", "--report-dir", str(tmp_path / "shipped"))  # fmt: skip
    assert shipped.returncode == 0, "on the shipped catalogue the hard-coded periods cannot be told apart"
