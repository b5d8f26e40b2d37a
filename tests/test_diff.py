"""`s1sr diff 4.2 4.3` names 18.63 and the clauses 4.3 adds, with evidence from cross runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import s1sr


@pytest.fixture(scope="module")
def diff(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, object], Path]:
    folder = tmp_path_factory.mktemp("diff")
    done = s1sr("diff", "4.2", "4.3", "--dmc", "secure-esme", "--json", "--report-dir", str(folder))
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout), folder


def test_18_63_behaviour_differs_both_ways(diff: tuple[dict[str, object], Path]) -> None:
    clauses = {c["id"]: c for c in diff[0]["clauses"]}  # type: ignore[attr-defined]
    c = clauses["18.63"]
    assert c["status"] == "behaviour differs"
    assert c["changes"]["parameters"] == {
        "a": {"firmware_conflict_scope": "request"},
        "b": {"firmware_conflict_scope": "device"},
    }
    assert c["a_fails_b"] == [
        "S1SR 4.3 rejects only the device whose HAN is busy (busy device first) [secure-esme]",
        "S1SR 4.3 rejects only the device whose HAN is busy (busy device last) [secure-esme]",
    ]
    assert len(c["b_fails_a"]) == 3


def test_clauses_43_adds_and_the_move_of_18_64(diff: tuple[dict[str, object], Path]) -> None:
    clauses = {c["id"]: c for c in diff[0]["clauses"]}  # type: ignore[attr-defined]
    added = sorted(cid for cid, c in clauses.items() if c["status"] == "added")
    assert added == ["18.16", "18.27", "18.3", "18.37", "18.4", "18.5", "18.62", "18.8", "23"]
    assert clauses["18.65"]["status"] == "moved from 18.64"
    assert "18.64" not in clauses
    assert clauses["18.62"]["a_fails_b"] == []  # documented anew in 4.3; the behaviour itself is unchanged
    assert len(clauses["18.37"]["a_fails_b"]) == 4  # 4.2 documents no S1SP-side maximum


def test_annex_c_entries_added(diff: tuple[dict[str, object], Path]) -> None:
    annex = diff[0]["annex_c"]
    assert [(d["srv"], d["field"]) for d in annex["added"]] == [  # type: ignore[index]
        ("1.6", "debt_recovery_per_payment_percent"),
        ("11.1", "activation"),
        ("2.1", "emergency_credit_auto_activation"),
        ("8.11", "join_method"),
    ]
    assert annex["removed"] == [] and annex["changed"] == []  # type: ignore[index]


def test_report_dir_holds_the_diff_and_the_four_runs(diff: tuple[dict[str, object], Path]) -> None:
    folder = diff[1]
    assert (
        "| 18.63 | Firmware update while another is in progress on the same HAN | behaviour differs |"
        in (folder / "diff.md").read_text()
    )
    # each run's journal lies beside its report folder
    assert sorted(p.name for p in (folder / "runs").iterdir()) == [
        ".4.2-scenarios-4.2-s1sp.s1sr-journal.jsonl", ".4.2-scenarios-4.3-s1sp.s1sr-journal.jsonl",
        ".4.3-scenarios-4.2-s1sp.s1sr-journal.jsonl", ".4.3-scenarios-4.3-s1sp.s1sr-journal.jsonl",
        "4.2-scenarios-4.2-s1sp", "4.2-scenarios-4.3-s1sp", "4.3-scenarios-4.2-s1sp", "4.3-scenarios-4.3-s1sp",
    ]  # fmt: skip
    assert (folder / "runs" / "4.3-scenarios-4.3-s1sp" / "index.html").is_file()


def test_same_version_twice_is_one_line_exit_2() -> None:
    done = s1sr("diff", "4.3", "4.3")
    assert done.returncode == 2 and done.stderr.startswith("s1sr: error: ")
