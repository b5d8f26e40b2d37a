"""The clause suite on a test-only catalogue whose values all differ from the shipped: an S1SP that hard-codes fails.

On the shipped catalogue every Annex C value, load-limit maximum and rounding equals what an S1SP
built against the shipped numbers would use, so the suite could not tell such an S1SP from one that
reads the catalogue. ``fixtures/catalogue-varied`` changes every one of them (and every failure
outcome code); its ``features/`` holds the scenarios whose literal values depend on them (18.37,
18.62, 23) with the varied catalogue's own literal values. The other clauses' features expect
nothing the catalogue varies (outcomes by class), so they run from ``features/`` unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from s1sr.catalogue import CATALOGUE_DIR_ENV, Catalogue, load_catalogue
from s1sr.features_index import check_features
from s1sr.s1sp.rules import BUILT_IN, BUILT_IN_DEFAULTS
from tests.conftest import REPO, s1sr

VARIED = REPO / "fixtures" / "catalogue-varied"
VARIED_FEATURES = VARIED / "features"
#: Clauses whose features expect no value the varied catalogue changes: run from features/ as they are.
INDEPENDENT = ["18.3", "18.4", "18.5", "18.8", "18.16", "18.27", "18.63"]
#: Clauses whose features need the varied catalogue's own literal values (fixtures/catalogue-varied/features).
DEPENDENT = ["18.37", "18.62", "23", "MP162.2", "MP312.1"]
#: Clauses whose features expect nothing the varied catalogue changes, checked elsewhere (tests/test_pack_runs.py).
ACCESS_AND_PACKS = ["DUIS.1", "MP162.1", "MP184.1"]
ENV = {CATALOGUE_DIR_ENV: str(VARIED)}


def _varied(monkeypatch: pytest.MonkeyPatch) -> Catalogue:
    monkeypatch.setenv(CATALOGUE_DIR_ENV, str(VARIED))
    return load_catalogue("4.3")


def _annex_c(catalogue: Catalogue) -> dict[tuple[str, str, str], Any]:
    return {(e.srv, e.command, e.field): e.value for e in catalogue.annex_c}


def _summary(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "results.json").read_text())  # type: ignore[no-any-return]


def _clauses_of(folder: Path) -> set[str]:
    return {
        tag.removeprefix("clause-")
        for feature in check_features([folder])
        for scenario in feature.scenarios.values()
        for tag in set(scenario.tags) | set(feature.tags)
        if tag.startswith("clause-")
    }


def test_every_annex_c_value_differs_from_the_shipped_and_the_built_in(monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = _annex_c(load_catalogue("4.3"))
    varied = _annex_c(_varied(monkeypatch))
    assert varied == {
        ("1.6", "SetPaymentMode", "debt_recovery_per_payment_percent"): 25,
        ("2.1", "SetPrepayConfiguration", "emergency_credit_auto_activation"): True,
        ("8.11", "AddToJoinWhitelist", "join_method"): "pre-configured",
        ("11.1", "TransferFirmware", "activation"): "on-activate-command",
    }
    assert set(shipped) == set(varied)
    for key, value in varied.items():
        assert value != shipped[key], key
        assert value != BUILT_IN_DEFAULTS[key[1:]], key


def test_every_device_model_parameter_and_failure_code_differs(monkeypatch: pytest.MonkeyPatch) -> None:
    shipped = load_catalogue("4.3")
    varied = _varied(monkeypatch)
    assert shipped.parameter("max_power_threshold_w") == {"secure-esme": 65535, "secure-esme-credit": 65535}
    assert varied.parameter("max_power_threshold_w") == {"secure-esme": 24000, "secure-esme-credit": 24000}
    assert (shipped.parameter("join_rounding"), varied.parameter("join_rounding")) == ("ceiling", "floor")
    assert varied.parameter("join_rounding") != BUILT_IN["join_rounding"]
    codes = {o.name: o.code for o in varied.outcomes}
    assert codes == {
        "accepted": 0,
        "outside the device model's range": 11,
        "device rejected": 12,
        "update in progress on the device's HAN": 13,
        "whole request rejected": 14,
    }
    assert {o.name for o in shipped.outcomes} == set(codes)
    assert all(o.code != codes[o.name] for o in shipped.outcomes if o.name != "accepted")


def test_the_varied_features_are_exactly_the_clauses_that_depend_on_catalogue_values() -> None:
    assert _clauses_of(VARIED_FEATURES) == set(DEPENDENT)
    assert _clauses_of(REPO / "features") == set(INDEPENDENT) | set(DEPENDENT) | set(ACCESS_AND_PACKS)
    shipped_names = sorted(p.name for p in (REPO / "features").glob("*.feature"))
    varied_names = sorted(p.name for p in VARIED_FEATURES.glob("*.feature"))
    assert set(varied_names) <= set(shipped_names), "a varied feature replaces the shipped one of the same name"


def test_the_reference_s1sp_passes_the_clause_suite_on_the_varied_catalogue(tmp_path: Path) -> None:
    dependent = s1sr("run", "--features", str(VARIED_FEATURES), "--report-dir", str(tmp_path / "dep"), env=ENV)
    assert dependent.returncode == 0, dependent.stdout + dependent.stderr
    # secure-esme and secure-gsme: 18.37 13 + 13 n/a (no load limiting on a GSME), 18.62 19 + 19, 23 7 + 7;
    # MP312.1 4 + 4 and MP162.2 4 + 4 n/a (their packs are not in force: tests/test_pack_runs.py runs them)
    assert _summary(tmp_path / "dep")["summary"] == {
        "passed": 65, "failed": 0, "error": 0, "waived": 0, "not applicable": 29, "not run": 0,
    }  # fmt: skip
    args = [arg for clause in INDEPENDENT for arg in ("--clause", clause)]
    independent = s1sr("run", *args, "--report-dir", str(tmp_path / "ind"), env=ENV)
    assert independent.returncode == 0, independent.stdout + independent.stderr
    # per DMC 18.3 16, 18.4 13, 18.5 20, 18.8 11, 18.16 7, 18.27 23 (2 gas or 3 electricity rows n/a),
    # 18.63 16 (the 3 @s1sr-4.2 examples n/a)
    assert _summary(tmp_path / "ind")["summary"] == {
        "passed": 201, "failed": 0, "error": 0, "waived": 0, "not applicable": 11, "not run": 0,
    }  # fmt: skip


CASES = [
    ("HardCodesAnnexC", VARIED_FEATURES, "23", 7),
    ("HardCodesLoadLimit", VARIED_FEATURES, "18.37", 4),
    ("HardCodesJoinRounding", VARIED_FEATURES, "18.62", 10),
    ("HardCodesOutcomeCodes", REPO / "features", "18.63", 7),
]


@pytest.mark.parametrize(("variant", "features", "clause", "failed"), CASES, ids=[c[0] for c in CASES])
def test_an_s1sp_that_hard_codes_the_shipped_values_passes_the_shipped_catalogue_and_fails_the_varied(
    tmp_path: Path, variant: str, features: Path, clause: str, failed: int
) -> None:
    s1sp = f"tests.s1sp_variants:{variant}"
    common = ["--s1sp", s1sp, "--dmc", "secure-esme", "--clause", clause]
    shipped = s1sr("run", *common, "--report-dir", str(tmp_path / "shipped"))
    assert shipped.returncode == 0, f"on the shipped catalogue {variant} cannot be told apart:\n{shipped.stdout}"
    varied = s1sr("run", *common, "--features", str(features), "--report-dir", str(tmp_path / "varied"), env=ENV)
    assert varied.returncode == 1, f"the varied catalogue did not catch {variant}:\n{varied.stdout}{varied.stderr}"
    results = _summary(tmp_path / "varied")
    assert results["summary"]["failed"] == failed
    assert results["summary"]["error"] == 0
    assert {c for s in results["scenarios"] if s["outcome"] == "failed" for c in s["clauses"]} == {clause}


def test_hard_coded_outcome_codes_fail_naming_the_class_expected_and_the_code_found(tmp_path: Path) -> None:
    done = s1sr(
        "run", "--s1sp", "tests.s1sp_variants:HardCodesOutcomeCodes", "--dmc", "secure-esme", "--clause", "18.63",
        "--report-dir", str(tmp_path), env=ENV,
    )  # fmt: skip
    assert done.returncode == 1
    failed = {s["name"]: s["mismatch"] for s in _summary(tmp_path)["scenarios"] if s["outcome"] == "failed"}
    assert failed["A request for a device on a busy HAN alone is rejected"] == {
        "what": 'outcome class at position 1 (code 3: "00-DB-12-34-56-78-90-A0: rejected, a firmware update is '
        'already in progress on HAN-A")',
        "expected": "update in progress on the device's HAN",
        "actual": "no class has code 3",
    }
    assert failed["Activation with the wrong hash leaves the update in progress"] == {
        "what": "outcome class (code 12)",
        "expected": "device rejected",
        "actual": 'position 1: outcome 2 (no class) "device rejected the command: FirmwareHash does not match the '
        'image held"',
    }


def test_a_catalogue_folder_that_does_not_exist_is_refused_in_one_line(tmp_path: Path) -> None:
    done = s1sr("run", "--clause", "18.3", env={CATALOGUE_DIR_ENV: str(tmp_path / "missing")})
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"s1sr: error: {tmp_path / 'missing'}: S1SR_CATALOGUE_DIR names no folder; "
        "unset S1SR_CATALOGUE_DIR or name a catalogue folder"
    ]
    empty = s1sr("clauses", env={CATALOGUE_DIR_ENV: str(tmp_path)})
    assert empty.returncode == 2
    assert "S1SR_CATALOGUE_DIR names a folder with no s1sr-<version>.toml" in empty.stderr
    assert "Traceback" not in done.stderr + empty.stderr
