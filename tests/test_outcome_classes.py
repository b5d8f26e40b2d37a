"""Outcomes are catalogue classes, each carried by one code; features match them by class, never by wording."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from s1sr.catalogue import CATALOGUE_DIR_ENV, find_dmc, load_catalogue
from s1sr.catalogue.naming import names_number, names_word, numbers_in
from s1sr.devices.simulated import SimulatedAdapter
from s1sr.duis.request import RequestId, ServiceRequest, UpdateLoadLimitSettings
from s1sr.errors import ConfigError
from s1sr.s1sp.translator import ReferenceS1SP
from tests.conftest import REPO, s1sr

VARIED = REPO / "fixtures" / "catalogue-varied"
SHIPPED = REPO / "s1sr" / "catalogue" / "data"
CLASS = """
[[outcome]]
name = "{name}"
code = {code}
provenance = "{provenance}"
code_provenance = "interpretation"
meaning = "m"
"""


def _catalogue_dir(tmp_path: Path, outcomes: str) -> Path:
    (tmp_path / "s1sr-4.3.toml").write_bytes((SHIPPED / "s1sr-4.3.toml").read_bytes())
    (tmp_path / "outcomes.toml").write_text(outcomes)
    return tmp_path


def test_the_shipped_classes_and_their_codes() -> None:
    found = {o.name: (o.code, o.provenance, o.code_provenance) for o in load_catalogue("4.3").outcomes}
    assert found == {
        "accepted": (0, "interpretation", "interpretation"),
        "outside the device model's range": (1, "consultation", "interpretation"),
        "device rejected": (2, "interpretation", "interpretation"),
        "update in progress on the device's HAN": (3, "consultation", "interpretation"),
        "whole request rejected": (4, "interpretation", "interpretation"),
    }
    assert load_catalogue("4.2").outcomes == load_catalogue("4.3").outcomes
    assert load_catalogue("4.3").outcome_of(3).name == "update in progress on the device's HAN"  # type: ignore[union-attr]
    assert load_catalogue("4.3").outcome_of(5) is None


def test_an_unknown_class_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        load_catalogue("4.3").outcome("HAN busy")
    assert caught.value.line() == (
        'outcomes.toml: no outcome class "HAN busy" in the catalogue; known: "accepted", '
        '"outside the device model\'s range", "device rejected", "update in progress on the device\'s HAN", '
        '"whole request rejected"'
    )


@pytest.mark.parametrize(
    ("classes", "message"),
    [
        (
            CLASS.format(name="a", code=2, provenance="consultation")
            + CLASS.format(name="b", code=2, provenance="consultation"),
            'outcome classes "a" and "b" share code 2; give each its own code',
        ),
        (
            CLASS.format(name="a", code=2, provenance="consultation")
            + CLASS.format(name="a", code=3, provenance="consultation"),
            'two outcome classes are named "a"; give each class its own name',
        ),
        (
            CLASS.format(name="a", code='"2"', provenance="consultation"),
            "outcome class \"a\" has code '2', not a whole number",
        ),
        (
            CLASS.format(name="a", code="true", provenance="consultation"),
            'outcome class "a" has code True, not a whole number',
        ),
        (
            CLASS.format(name="a", code=2, provenance="designated"),
            "outcome class \"a\" provenance must be one of ('consultation', 'modification', 'interpretation')",
        ),
    ],
    ids=["shared code", "shared name", "code as text", "code as boolean", "unknown provenance"],
)
def test_a_wrong_outcome_table_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, classes: str, message: str
) -> None:
    monkeypatch.setenv(CATALOGUE_DIR_ENV, str(_catalogue_dir(tmp_path, classes)))
    with pytest.raises(ConfigError) as caught:
        load_catalogue("4.3")
    assert caught.value.line() == f"catalogue {tmp_path / 'outcomes.toml'}: {message}"


def test_a_wrong_outcome_table_stops_a_run_before_anything_runs(tmp_path: Path) -> None:
    folder = _catalogue_dir(tmp_path, CLASS.format(name="a", code=1, provenance="x"))
    done = s1sr("run", "--clause", "18.3", env={CATALOGUE_DIR_ENV: str(folder)})
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f's1sr: error: catalogue {folder / "outcomes.toml"}: outcome class "a" provenance must be one of '
        "('consultation', 'modification', 'interpretation')"
    ]


@pytest.mark.parametrize(
    ("text", "number", "named"),
    [
        ("above the maximum of 65535 W for this device model", 65535, True),
        ("limit: 65,535 W", 65535, True),
        ("limit: 65\u202f535 W", 65535, True),
        ("limit 65535W", 65535, True),
        ("at most 655350 W", 65535, False),
        ("at most 165535 W", 65535, False),
        ("at most 65535.5 W", 65535, False),
        ("at most 6553 W", 65535, False),
        ("65536 W is over 65535", 65536, True),
        ("no number", 0, False),
    ],
)
def test_a_limit_is_named_as_a_whole_number_however_written(text: str, number: int, named: bool) -> None:
    assert names_number(text, number) is named


def test_numbers_in_a_sentence() -> None:
    assert numbers_in("24001 W is above the maximum of 24,000 W (1.5 kW step)") == [24001, 24000]


@pytest.mark.parametrize(
    ("text", "name", "named"),
    [
        ("rejected, a firmware update is already in progress on HAN-A", "HAN-A", True),
        ("update in progress on han-a.", "HAN-A", True),
        ("update in progress on HAN-AB", "HAN-A", False),
        ("update in progress on XHAN-A", "HAN-A", False),
        ("update in progress on rig-1/hub-10", "rig-1/hub-1", False),
        ("update in progress on rig-1/hub-1", "rig-1/hub-1", True),
        ("00-db-12-34-56-78-90-a0: not sent", "00-DB-12-34-56-78-90-A0", True),
        ("00-DB-12-34-56-78-90-A01: not sent", "00-DB-12-34-56-78-90-A0", False),
        ("anything", "", False),
    ],
)
def test_a_han_or_device_is_named_as_a_whole_word(text: str, name: str, named: bool) -> None:
    assert names_word(text, name) is named


def test_the_reference_s1sp_writes_the_code_the_catalogue_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    request = ServiceRequest(
        RequestId("90-B3-D5-1F-30-01-00-00", "00-DB-12-34-56-78-90-A0", 1001),
        "6.4.1",
        UpdateLoadLimitSettings(period=300, power_threshold=24001, restoration_period=30, supply_state="Disable"),
    )
    dmc = find_dmc("secure-esme")
    shipped = ReferenceS1SP(load_catalogue("4.3"), dmc, SimulatedAdapter(dmc)).handle(request).response
    monkeypatch.setenv(CATALOGUE_DIR_ENV, str(VARIED))
    varied = ReferenceS1SP(load_catalogue("4.3"), dmc, SimulatedAdapter(dmc)).handle(request).response
    assert shipped is not None and varied is not None
    assert shipped.success and not shipped.outcomes  # 24001 W is under the shipped maximum of 65535 W
    assert not varied.success
    assert [(o.code, o.position) for o in varied.outcomes] == [(11, 1)]
    assert names_number(varied.outcomes[0].text, 24000)


@pytest.mark.parametrize(
    ("variant", "clause", "failed", "reason"),
    [
        ("LeavesOutTheLimit", "18.37", 4,
         'position 1: expected the outcome to name the limit 65535 W: "threshold too high for this meter"'),
        ("CallsEveryHanHanA", "18.63", 1,
         "position 1: expected the outcome to name HAN-B, the HAN of 00-DB-12-34-56-78-90-B0: "
         '"00-DB-12-34-56-78-90-B0: accepted, firmware transfer started on HAN-A"'),
    ],
)  # fmt: skip
def test_an_outcome_of_the_right_class_that_does_not_name_what_the_reading_says_fails(
    tmp_path: Path, variant: str, clause: str, failed: int, reason: str
) -> None:
    done = s1sr(
        "run", "--s1sp", f"tests.s1sp_variants:{variant}", "--dmc", "secure-esme", "--clause", clause,
        "--report-dir", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    scenarios = json.loads((tmp_path / "results.json").read_text())["scenarios"]
    reasons = [s["reason"] for s in scenarios if s["outcome"] == "failed"]
    assert len(reasons) == failed
    assert reason in reasons
