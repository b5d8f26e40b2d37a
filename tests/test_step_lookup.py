"""pytest-bdd's step lookup, remembered per collector, step type and text, finds what it found before.

Two test modules define the same step texts with different bodies, and one text is both a Given and a
Then with different bodies: a lookup remembered by text alone, or across modules, would run another
module's (or another type's) definition, and these scenarios would fail.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FEATURE = """Feature: {name}
  Scenario: the number of {name}
    Given the number
    And the thing
    Then the number is {number}
    Then the thing
    And both were seen
"""

MODULE = """from pytest_bdd import given, parsers, scenarios, then

scenarios("{name}.feature")
SEEN = []


@given("the number", target_fixture="number")
def _number():
    return {number}


@given("the thing")
def _given_thing():
    SEEN.append("given")


@then(parsers.parse("the number is {{expected:d}}"))
def _check(number, expected):
    assert number == expected == {number}


@then("the thing")
def _then_thing():
    assert SEEN == ["given"]  # the Then is not the Given's definition
    SEEN.append("then")


@then("both were seen")
def _both():
    assert SEEN == ["given", "then"]
"""

CONFTEST = """from s1sr.plugin.step_lookup import remember_step_lookups


def pytest_configure(config):
    assert remember_step_lookups()
    assert remember_step_lookups()  # once per process however often asked
"""


def test_a_remembered_lookup_keeps_each_modules_and_each_types_own_definition(tmp_path: Path) -> None:
    for name, number in (("alpha", 1), ("beta", 2)):
        (tmp_path / f"{name}.feature").write_text(FEATURE.format(name=name, number=number), encoding="utf-8")
        (tmp_path / f"test_{name}.py").write_text(MODULE.format(name=name, number=number), encoding="utf-8")
    (tmp_path / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:s1sr.plugin", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
