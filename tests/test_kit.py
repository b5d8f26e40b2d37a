"""The adapter kit tests the adapter it is told to, and a broken one is reported once per cause, in one line."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import REPO
from tests.test_third_party import _kit


def test_the_kit_requires_the_adapter_it_is_to_test(tmp_path: Path) -> None:
    done = _kit("--kit-dmc", "secure-esme", cwd=tmp_path)
    assert done.returncode == 4, done.stdout + done.stderr  # pytest's usage error: nothing ran
    assert "--kit-adapter: name the adapter to test" in done.stderr
    assert "passed" not in done.stdout


def test_an_adapter_that_cannot_be_created_fails_every_check_with_one_line(tmp_path: Path) -> None:
    done = _kit(
        "--kit-adapter", "tests.unplugged_adapter:Unplugged", "--kit-dmc", "secure-esme", "-rfE",
        cwd=tmp_path, env={"PYTHONPATH": str(REPO), "COLUMNS": "400"},
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    line = "adapter tests.unplugged_adapter:Unplugged could not be created: ConnectionError: the rig is unplugged"
    rows = [row for row in done.stdout.splitlines() if row.startswith(("FAILED ", "ERROR "))]
    # Every check that needs the adapter says why it has none, in the same one line; the check of
    # create() itself says what create() raised instead of ConfigError.
    unbuilt = [row for row in rows if row.endswith(f" - Failed: {line}")]
    assert len(unbuilt) == 25 and len(rows) == 26, rows
    assert any(row.endswith("raised ConnectionError: the rig is unplugged, not ConfigError") for row in rows), rows
    assert "Traceback" not in done.stdout and "second line of detail" not in done.stdout
