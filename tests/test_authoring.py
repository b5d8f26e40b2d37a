"""The worked example of docs/authoring.md runs as written, against the shipped steps."""

import json
import re
from pathlib import Path

from tests.conftest import REPO, s1sr


def test_worked_example_runs_from_another_folder(tmp_path: Path) -> None:
    doc = (REPO / "docs" / "authoring.md").read_text(encoding="utf-8")
    block = re.search(r"```gherkin\n(.*?)```", doc, re.DOTALL)
    assert block is not None
    folder = tmp_path / "my-features"
    folder.mkdir()
    (folder / "18.03-reset-in-credit.feature").write_text(block.group(1), encoding="utf-8")
    done = s1sr(
        "run",
        "--features",
        str(folder),
        "--clause",
        "18.3",
        "--report-dir",
        str(tmp_path / "out"),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert results["summary"]["passed"] == 4  # two examples on each default DMC
    assert {s["feature"] for s in results["scenarios"]} == {"18.3 Reset in credit mode (analyst's addition)"}
