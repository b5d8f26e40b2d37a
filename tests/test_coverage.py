"""What the reference S1SP does with the RTDS: every meter template executed, refused by reading, or not supported."""

from __future__ import annotations

import json
from pathlib import Path

from s1sr.coverage import rtds_coverage
from tests.conftest import REPO, RTDS, s1sr


def test_the_rtds_meter_templates_are_counted_as_the_readme_says(duis_schema: object) -> None:
    found = rtds_coverage(RTDS, "4.3", None)
    assert found.counts() == {"executed": 46, "refused by reading": 0, "not supported": 214}
    assert found.other_devices == 37
    by_srv = found.by_srv()
    executed = [srv for srv, counts in by_srv.items() if counts["executed"]]
    assert executed == [
        "1.5", "1.6", "2.1", "2.5", "4.1.1", "4.2", "4.3", "4.8.1", "4.8.3", "4.10", "4.13", "4.17", "4.18", "6.4.1",
        "11.1", "11.3",
    ]  # fmt: skip
    assert len(by_srv) - len(executed) == 91
    assert by_srv["4.8.1"] == {"executed": 3, "refused by reading": 0, "not supported": 0}
    assert by_srv["6.2.1"] == {"executed": 0, "refused by reading": 0, "not supported": 2}
    details = {t.file: t for t in found.templates}
    assert details["ECS26b_6.2.1_SUCCESS_REQUEST_DUIS.XML"].detail == "not supported by the reference S1SP: SRV 6.2.1"
    assert "future-dated" in details["ECS17b_4.1.1_DSP_FUTURE_DATED_REQUEST_DUIS.XML"].detail
    assert details["GCS18_4.10_SUCCESS_REQUEST_DUIS.XML"].category == "executed"
    readme = (REPO / "README.md").read_text()
    srvs = "1.5, 1.6, 2.1, 2.5, 4.1.1, 4.2, 4.3, 4.8.1, 4.8.3, 4.10, 4.13, 4.17, 4.18, 6.4.1, 11.1, 11.3"
    assert f"| 46, of 16 SRVs ({srvs}) |" in readme
    assert "| 214: 195 of the 91 SRVs it has no handler for" in readme and "19 future-dated" in readme


def test_a_request_the_reference_s1sp_does_not_know_is_one_line() -> None:
    done = s1sr("translate", str(RTDS / "ECS26b_6.2.1_SUCCESS_REQUEST_DUIS.XML"))
    assert done.returncode == 2
    assert done.stderr.startswith(
        f"s1sr: error: {RTDS / 'ECS26b_6.2.1_SUCCESS_REQUEST_DUIS.XML'}: not supported by the reference S1SP: SRV 6.2.1"
    )
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_coverage_json_and_a_folder_that_is_not_one(tmp_path: Path) -> None:
    done = s1sr("coverage", "--rtds", str(RTDS), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["counts"]["executed"] == 46
    missing = s1sr("coverage", "--rtds", str(tmp_path / "nowhere"))
    assert missing.returncode == 2
    assert missing.stderr == (
        f"s1sr: error: {tmp_path / 'nowhere'}: is not a folder; name the RTDS folder, e.g. ../shared/rtds\n"
    )
