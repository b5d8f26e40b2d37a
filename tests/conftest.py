"""Fixtures for the harness's own tests: the official schema (required in CI) and the RTDS corpus."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from s1sr.duis.schema import DuisSchema, find_schema, load_schema, schema_required

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
RTDS = SHARED / "rtds"


@pytest.fixture(scope="session", autouse=True)
def archive_outside_the_repository(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """`s1sr run` keeps every run in ./s1sr-runs: the tests' runs (cwd REPO by default) go to a temporary folder."""
    previous = os.environ.get("S1SR_ARCHIVE_DIR")
    os.environ["S1SR_ARCHIVE_DIR"] = str(tmp_path_factory.mktemp("s1sr-runs"))
    yield
    if previous is None:
        os.environ.pop("S1SR_ARCHIVE_DIR", None)
    else:
        os.environ["S1SR_ARCHIVE_DIR"] = previous


@pytest.fixture(scope="session")
def duis_schema() -> DuisSchema:
    """The official DUIS schema; skipped only when absent and S1SR_REQUIRE_XSD is not set."""
    setting = find_schema(None, REPO)
    if setting.path is None or not setting.path.is_file():
        if schema_required():
            pytest.fail(f"S1SR_REQUIRE_XSD is set but the DUIS schema is not found ({setting.source})")
        pytest.skip("the official DUIS schema is not configured (set S1SR_DUIS_XSD)")
    return load_schema(setting.path)


@pytest.fixture(scope="session")
def rtds_files() -> list[Path]:
    """The 297 RTDS request templates from ../shared/rtds."""
    files = sorted(RTDS.glob("*.XML"))
    if not files:
        if schema_required():
            pytest.fail(f"no RTDS templates in {RTDS}")
        pytest.skip(f"no RTDS templates in {RTDS}")
    return files


def s1sr(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the s1sr command line in a subprocess (as a user would)."""
    return subprocess.run(
        [sys.executable, "-m", "s1sr", *args],
        capture_output=True,
        text=True,
        cwd=cwd or REPO,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    """The one error line of a command refused as bad input (exit 2, no traceback)."""
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("s1sr: error: ")
    return lines[0]


def run_mutant(mutant: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``s1sr`` with one deliberately wrong S1SP (see tests/mutants.py), in a subprocess."""
    return subprocess.run(
        [sys.executable, str(REPO / "tests" / "mutants.py"), mutant, *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


@pytest.fixture(scope="session")
def failing_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report folder of a run whose S1SP rounds pence (18.16 fails, 18.62 passes)."""
    folder = tmp_path_factory.mktemp("failing-report")
    done = run_mutant("rounds_pence", "run", "--clause", "18.16", "--clause", "18.62", "--report-dir", str(folder))
    assert done.returncode == 1, done.stdout + done.stderr
    return folder


@pytest.fixture(scope="session")
def example_installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The example third-party adapter pip-installed into a folder of its own; the environment that finds it."""
    target = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
         "--target", str(target), str(REPO / "examples" / "s1sr-example-adapter")],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return {"PYTHONPATH": os.pathsep.join([str(target), str(REPO)])}


@contextmanager
def serve_device(dmc: str, *options: str) -> Iterator[str]:
    """``s1sr serve-device --dmc DMC OPTIONS`` on a free port, as a user starts it; its URL, stopped on exit."""
    server = subprocess.Popen(
        [sys.executable, "-m", "s1sr", "serve-device", "--dmc", dmc, "--port", "0", *options],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO,
    )  # fmt: skip
    try:
        assert server.stdout is not None
        found = re.search(r"(http://127\.0\.0\.1:\d+)", server.stdout.readline())
        assert found is not None, "serve-device did not say where it serves"
        yield found.group(1)
    finally:
        server.terminate()
        server.wait(timeout=10)
