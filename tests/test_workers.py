"""``s1sr run --workers N`` and ``pytest -n N``: one record, the same verdicts as a run in one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from s1sr.catalogue import DMC
from s1sr.devices.adapter import DEFAULT_TIMEOUT_S, DeviceAdapter, DeviceInfo
from s1sr.devices.commands import DeviceCommand, DeviceReply
from s1sr.devices.simulated import SimulatedAdapter
from tests.conftest import REPO, s1sr

#: What the comparisons leave out: times, and evidence (signatures and request ids differ run to run).
VARYING = ("duration_s", "evidence")


def _results(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "results.json").read_text())
    return data


def _comparable(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{k: v for k, v in s.items() if k not in VARYING} for s in results["scenarios"]]


@pytest.fixture(scope="module")
def serial_and_parallel(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The whole suite on the default DMCs, once in one process and once on two workers."""
    folder = tmp_path_factory.mktemp("workers")
    serial = s1sr("run", "--report-dir", str(folder / "serial"))
    assert serial.returncode in (0, 1, 3), serial.stdout + serial.stderr  # the verdict is compared, not assumed
    parallel = s1sr("run", "--workers", "2", "--report-dir", str(folder / "parallel"))
    assert parallel.returncode == serial.returncode, parallel.stdout + parallel.stderr
    return folder / "serial", folder / "parallel"


def test_two_workers_give_the_verdicts_of_one_process(serial_and_parallel: tuple[Path, Path]) -> None:
    serial, parallel = (_results(folder) for folder in serial_and_parallel)
    outcomes = {s["id"]: s["outcome"] for s in serial["scenarios"]}
    assert len(outcomes) == len(serial["scenarios"]) >= 240  # unique ids (the features grow)
    assert {s["id"]: s["outcome"] for s in parallel["scenarios"]} == outcomes
    assert _comparable(parallel) == _comparable(serial)  # names, order, steps, reasons: one record
    for key in ("verdict", "verdict_reason", "exit_code", "summary", "schema", "dmc", "adapter", "s1sp"):
        assert parallel[key] == serial[key], key
    assert parallel["interrupted"] is False


def test_each_worker_journals_its_own_scenarios_and_only_the_controller_publishes(
    serial_and_parallel: tuple[Path, Path],
) -> None:
    parallel = serial_and_parallel[1]
    lines = [json.loads(line) for line in (parallel.parent / ".parallel.s1sr-journal.jsonl").read_text().splitlines()]
    kinds = Counter((line["worker"], line["kind"]) for line in lines)
    assert kinds[("controller", "header")] == 1 and kinds[("controller", "end")] == 1
    assert kinds[("controller", "scenario")] == 0
    assert kinds[("gw0", "scenario")] > 0 and kinds[("gw1", "scenario")] > 0
    assert kinds[("gw0", "scenario")] + kinds[("gw1", "scenario")] == len(_results(parallel)["scenarios"])
    assert len({line["run"] for line in lines}) == 1
    assert sorted(p.name for p in parallel.iterdir()) == ["cucumber.json", "index.html", "junit.xml", "results.json"]


def test_pytest_n_gives_a_complete_record(serial_and_parallel: tuple[Path, Path], tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "s1sr/suite",
         "--s1sr-clause", "18.62", "--s1sr-clause", "18.16", "--s1sr-results", str(tmp_path / "report")],
        capture_output=True, text=True, cwd=REPO, timeout=600,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stdout + done.stderr  # pytest's codes: all passed, some failed
    assert f"s1sr: journal {tmp_path / '.report.s1sr-journal.jsonl'}" in done.stdout
    results = _results(tmp_path / "report")
    serial = _results(serial_and_parallel[0])
    wanted = [s for s in _comparable(serial) if {"18.62", "18.16"} & set(s["clauses"])]
    assert len(wanted) >= 28 and _comparable(results) == wanted
    assert results["summary"]["passed"] == sum(s["outcome"] == "passed" for s in wanted) > 0
    assert results["schema"]["requests_validated"] > 0 and results["interrupted"] is False


class DiesOnce(DeviceAdapter):
    """The simulated estate, except that the first command anywhere ends its process (as a crashing rig driver)."""

    name = "dies-once"

    def __init__(self, dmc: DMC, flag: Path) -> None:
        self.inner = SimulatedAdapter(dmc)
        self.flag = flag

    @classmethod
    def create(cls, dmc: DMC, options: Mapping[str, str]) -> DeviceAdapter:
        return cls(dmc, Path(options["flag"]))

    def reset(self) -> None:
        self.inner.reset()

    def execute(self, command: DeviceCommand, timeout_s: float = DEFAULT_TIMEOUT_S) -> DeviceReply:
        try:
            os.close(os.open(self.flag, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return self.inner.execute(command, timeout_s)
        os._exit(9)

    def snapshot(self) -> dict[str, Any]:
        return self.inner.snapshot()

    def devices(self) -> list[DeviceInfo]:
        return self.inner.devices()


def test_a_worker_that_dies_under_a_scenario_makes_it_an_error_and_the_rest_go_on(tmp_path: Path) -> None:
    done = s1sr(
        "run", "--workers", "2", "--dmc", "secure-esme", "--clause", "18.62",
        "--adapter", "tests.test_workers:DiesOnce", "--adapter-option", f"flag={tmp_path / 'died'}",
        "--report-dir", str(tmp_path / "report"),
    )  # fmt: skip
    assert done.returncode == 3, done.stdout + done.stderr
    results = _results(tmp_path / "report")
    errors = [s for s in results["scenarios"] if s["outcome"] == "error"]
    assert len(errors) == 1 and "crashed while running" in errors[0]["reason"], errors
    total = len(results["scenarios"])
    assert total >= 16
    assert results["summary"] == {
        "passed": total - 1, "failed": 0, "error": 1, "waived": 0, "not applicable": 0, "not run": 0,
    }  # fmt: skip
    assert results["verdict"] == "INCONCLUSIVE" and results["interrupted"] is False


@pytest.mark.parametrize("workers", ["-1", "65"])
def test_a_number_of_workers_out_of_range_is_refused(workers: str) -> None:
    done = s1sr("run", "--clause", "18.62", "--workers", workers)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr == (
        f"s1sr: error: --workers: '{workers}' is not a number of workers: give 1 to 64, or 0 for none; "
        "for example --workers 2 on two cores\n"
    )
    assert "S1SR scenarios" not in done.stdout
