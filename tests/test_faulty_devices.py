"""Purposely faulty device models, plugged in through the public adapter API, fail their clause's scenarios."""

import json
from pathlib import Path

import pytest

from tests.conftest import s1sr

CASES = [
    ("IgnoresNegativeAdjustments", "18.3"),
    ("ResetsBalanceOnPrepayment", "18.4"),
    ("KeepsEmergencyCreditOnCredit", "18.4"),
    ("ZeroLimitActivates", "18.5"),
    ("LimitMinusBalance", "18.8"),
    ("ReportsTenthPence", "18.16"),
    ("DropsLowCreditThreshold", "18.27"),
    ("ClampsLoadLimit", "18.37"),
    ("FloorsJoinWindow", "18.62"),
    ("HidesFirmwareInProgress", "18.63"),
]


@pytest.mark.parametrize(("adapter", "clause"), CASES, ids=[c[0] for c in CASES])
def test_faulty_device_fails_its_clause(tmp_path: Path, adapter: str, clause: str) -> None:
    done = s1sr(
        "run", "--adapter", f"tests.faulty_devices:{adapter}", "--dmc", "secure-esme",
        "--clause", clause, "--report-dir", str(tmp_path),
    )  # fmt: skip
    assert done.returncode == 1, f"{adapter} was not caught:\n{done.stdout}\n{done.stderr}"
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["adapter"] == f"tests.faulty_devices:{adapter}"
    failed = [s for s in results["scenarios"] if s["outcome"] == "failed"]
    assert failed and all(clause in s["clauses"] for s in failed)
    assert not [s for s in results["scenarios"] if s["outcome"] == "error"]
