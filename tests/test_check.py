"""``s1sr check``: authoring mistakes found where they were made, one line each with file:line."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import s1sr

BROKEN = """Feature: authoring mistakes

  @clause-18.99 @srv-9.9 @s1sr-9.9
  Scenario: a clause nobody knows
    Given the meter balance is 500 pence

  Scenario: no clause tag
    Given the meter balance is 500 pence

  @clause-18.3
  Scenario: a misspelt step
    Given the meter balanse is 500 pence

  @clause-18.62
  Scenario Outline: an outline whose second row does not match
    When the User sends a JoinTimePeriod of <seconds> that is not valid DUIS

    Examples:
      | seconds |
      | 3601    |
      | sixty   |
"""


def test_the_shipped_features_have_no_authoring_problem() -> None:
    done = s1sr("check")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "14 feature file(s) checked" in done.stdout


def test_each_mistake_is_one_line_with_its_place_and_the_fix(tmp_path: Path) -> None:
    (tmp_path / "x.feature").write_text(BROKEN)
    done = s1sr("check", "--features", str(tmp_path))
    assert done.returncode == 2, done.stdout + done.stderr
    where = tmp_path / "x.feature"
    assert done.stderr.splitlines() == [
        f"s1sr: error: {where}:4: unknown clause tag @clause-18.99; known: "
        "18.3, 18.4, 18.5, 18.8, 18.16, 18.27, 18.37, 18.62, 18.63, 18.64, 18.65, 23, "
        "DUIS.1, MP162.1, MP162.2, MP184.1, MP312.1",
        f"s1sr: error: {where}:4: unknown S1SR version tag @s1sr-9.9; known: 4.2, 4.3",
        f"s1sr: error: {where}:4: unknown SRV tag @srv-9.9; known: "
        "1.5, 1.6, 2.1, 2.5, 4.1.1, 4.2, 4.3, 4.8.1, 4.8.3, 4.10, 4.13, 4.17, 4.18, 6.4.1, 8.11, 11.1, 11.3",
        f"s1sr: error: {where}:7: scenario 'no clause tag' has no clause tag; tag it @clause-ID with its clause",
        f"s1sr: error: {where}:12: no step definition matches 'the meter balanse is 500 pence'; "
        "the nearest defined given step is 'the meter balance is {pence:d} pence'",
        f"s1sr: error: {where}:16: no step definition matches "
        "'the User sends a JoinTimePeriod of sixty that is not valid DUIS'; "
        "the nearest defined when step is "
        r"'the User sends a JoinTimePeriod of (?P<seconds>-?\d+) that is not valid DUIS'",
    ]


def test_a_missing_folder_is_one_line() -> None:
    done = s1sr("check", "--features", "no-such-folder")
    assert done.returncode == 2
    assert (
        done.stderr
        == "s1sr: error: no-such-folder: feature folder does not exist; pass an existing folder to --features\n"
    )


def test_a_run_refuses_an_authoring_problem_before_anything_runs(tmp_path: Path) -> None:
    (tmp_path / "x.feature").write_text(BROKEN)
    done = s1sr("run", "--features", str(tmp_path), "--report-dir", str(tmp_path / "report"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr == (
        f"s1sr: error: {tmp_path / 'x.feature'}:4: unknown clause tag @clause-18.99 (5 more: run s1sr check); "
        "known: 18.3, 18.4, 18.5, 18.8, 18.16, 18.27, 18.37, 18.62, 18.63, 18.64, 18.65, 23, "
        "DUIS.1, MP162.1, MP162.2, MP184.1, MP312.1\n"
    )
    assert not (tmp_path / "report").exists()
