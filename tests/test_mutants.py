"""Each deliberately wrong S1SP makes `s1sr run` fail, on the clause it breaks (faulty devices: test_faulty_devices)."""

import json
from pathlib import Path

import pytest

from tests.conftest import REPO, run_mutant

CASES = [
    ("rounds_pence", ["18.3", "18.16", "18.27"]),
    ("floors_join_minutes", ["18.62"]),
    ("rejects_whole_firmware_request", ["18.63"]),
    ("no_load_limit_check", ["18.37"]),
    # Its built-in defaults equal the shipped Annex C values: only a catalogue whose values differ
    # (fixtures/catalogue-varied, with its own features for clause 23) can tell it from a conformant S1SP.
    ("ignores_annex_c", ["23"]),
]
VARIED = REPO / "fixtures" / "catalogue-varied"
ON_THE_VARIED_CATALOGUE = {"ignores_annex_c"}


@pytest.mark.parametrize(("mutant", "clauses"), CASES, ids=[c[0] for c in CASES])
def test_mutant_fails_its_clause(tmp_path: Path, mutant: str, clauses: list[str]) -> None:
    args = ["run", "--dmc", "secure-esme", "--report-dir", str(tmp_path)]
    for clause in clauses:
        args += ["--clause", clause]
    env = None
    if mutant in ON_THE_VARIED_CATALOGUE:
        args += ["--features", str(VARIED / "features")]
        env = {"S1SR_CATALOGUE_DIR": str(VARIED)}
    done = run_mutant(mutant, *args, env=env)
    assert done.returncode == 1, f"the suite did not catch {mutant}:\n{done.stdout}\n{done.stderr}"
    results = json.loads((tmp_path / "results.json").read_text())
    failed = [s for s in results["scenarios"] if s["outcome"] == "failed"]
    assert failed, "non-conformant, but no scenario failed"
    caught = {c for s in failed for c in s["clauses"]}
    for clause in clauses:
        assert clause in caught, f"{mutant} should fail a scenario of clause {clause}; failed: {sorted(caught)}"
    assert not [s for s in results["scenarios"] if s["outcome"] == "error"], "a mutant is a failure, not an error"


@pytest.mark.parametrize(
    ("mutant", "reason"),
    [
        ("tampers_after_signing", "digest mismatch: the signed content was altered"),
        ("invalid_response", "the response is not valid DUIS"),
    ],
)
def test_a_bad_signature_or_invalid_response_fails_with_its_reason(
    tmp_path: Path, mutant: str, reason: str, duis_schema: object
) -> None:
    done = run_mutant(
        mutant, "run", "--dmc", "secure-esme", "--clause", "18.16", "--report-dir", str(tmp_path),
        "--xsd", str(duis_schema.path),  # type: ignore[attr-defined]
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    scenarios = json.loads((tmp_path / "results.json").read_text())["scenarios"]
    assert {s["outcome"] for s in scenarios} == {"failed"}
    assert all(reason in s["reason"] for s in scenarios), [s["reason"] for s in scenarios]


def test_an_invalid_response_is_explained_in_the_evidence(tmp_path: Path, duis_schema: object) -> None:
    done = run_mutant(
        "invalid_response", "run", "--dmc", "secure-esme", "--clause", "18.16", "--report-dir", str(tmp_path),
        "--xsd", str(duis_schema.path),  # type: ignore[attr-defined]
    )  # fmt: skip
    assert done.returncode == 1
    results = json.loads((tmp_path / "results.json").read_text())
    verdicts = [e["response_schema"] for s in results["scenarios"] for e in s["evidence"] if e["srv"] == "4.18"]
    assert verdicts and all(v.startswith("INVALID: ") and "ReadMeterBalanceResponse" in v for v in verdicts)
    assert results["schema"]["invalid"] == len(results["scenarios"])
