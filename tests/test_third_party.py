"""The conformance kit passes on the built-in adapters; the example third-party adapter installs,
registers through its entry point, passes the kit and runs a clause."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import s1sr, serve_device

KIT = ["-m", "pytest", "-p", "s1sr.testing", "--pyargs", "s1sr.testing.test_adapter_kit", "-q", "-c", os.devnull,
       "-p", "no:cacheprovider"]  # fmt: skip


def _kit(*options: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *KIT, "--rootdir", str(cwd), *options],
        capture_output=True, text=True, cwd=cwd, env={**os.environ, **(env or {})}, timeout=600,
    )  # fmt: skip


@pytest.mark.parametrize("dmc", ["secure-esme", "secure-gsme", "secure-esme-credit"])
def test_the_kit_passes_on_the_simulated_adapter(tmp_path: Path, dmc: str) -> None:
    done = _kit("--kit-adapter", "simulated", "--kit-dmc", dmc, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "27 passed" in done.stdout


@pytest.fixture
def endpoint() -> Iterator[str]:
    with serve_device("secure-gsme") as url:
        yield url


def test_the_kit_passes_on_the_remote_adapter(tmp_path: Path, endpoint: str) -> None:
    done = _kit("--kit-adapter", "remote", "--kit-dmc", "secure-gsme", "--kit-option", f"url={endpoint}", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr


def test_remote_run_gives_the_same_verdicts_as_in_process(tmp_path: Path, endpoint: str) -> None:
    remote = s1sr("run", "--adapter", "remote", "--device-url", endpoint, "--dmc", "secure-gsme",
                  "--report-dir", str(tmp_path / "remote"))  # fmt: skip
    local = s1sr("run", "--dmc", "secure-gsme", "--report-dir", str(tmp_path / "local"))
    assert remote.returncode == local.returncode == 0, remote.stdout + remote.stderr

    def verdicts(folder: str) -> list[tuple[str, str]]:
        results = json.loads((tmp_path / folder / "results.json").read_text())
        return [(s["name"], s["outcome"]) for s in results["scenarios"]]

    assert verdicts("remote") == verdicts("local")
    assert len(verdicts("local")) == 202


def test_the_example_adapter_is_listed(example_installed: dict[str, str]) -> None:
    done = s1sr("adapters", "--json", env=example_installed)
    assert done.returncode == 0, done.stderr
    found = {a["name"]: a for a in json.loads(done.stdout)}
    assert found["example-lab"]["device_models"] == ["secure-esme"]
    assert "entry point s1sr_example_adapter:LabRigAdapter" in found["example-lab"]["source"]


def test_the_example_adapter_passes_the_kit(tmp_path: Path, example_installed: dict[str, str]) -> None:
    done = _kit("--kit-adapter", "example-lab", "--kit-dmc", "secure-esme", cwd=tmp_path, env=example_installed)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_example_adapter_runs_a_clause(tmp_path: Path, example_installed: dict[str, str]) -> None:
    done = s1sr("run", "--adapter", "example-lab", "--dmc", "secure-esme", "--clause", "18.27",
                "--report-dir", str(tmp_path), env=example_installed)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads((tmp_path / "results.json").read_text())["adapter"] == "example-lab"


def test_the_example_adapter_refuses_a_dmc_it_cannot_drive(example_installed: dict[str, str]) -> None:
    done = s1sr("run", "--adapter", "example-lab", "--dmc", "secure-gsme", env=example_installed)
    assert done.returncode == 2
    assert "drives secure-esme, not secure-gsme" in done.stderr
