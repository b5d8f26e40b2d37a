"""A report folder holding another run's reports is never replaced by a run of other settings unless told to."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import REPO, s1sr


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_a_run_of_other_settings_is_refused_and_leaves_the_reports_byte_identical(tmp_path: Path) -> None:
    folder = tmp_path / "report"
    first = s1sr("run", "--clause", "18.16", "--dmc", "secure-esme", "--report-dir", str(folder))
    assert first.returncode == 0, first.stdout + first.stderr
    before = _files(folder)
    for args, what in (
        (("--dmc", "secure-gsme"), "DMCs differ"),
        (("--dmc", "secure-esme", "--s1sr-version", "4.2"), "S1SR version, catalogue differ"),
        (("--dmc", "secure-esme", "--s1sp-version", "4.2"), "S1SP differ"),
    ):
        done = s1sr("run", "--clause", "18.16", *args, "--report-dir", str(folder))
        assert done.returncode == 2, done.stdout + done.stderr
        assert done.stderr == (
            f"s1sr: error: --report-dir {folder}: holds the reports of a run of other settings ({what}), "
            "which this run would replace; choose another folder, or add --force to replace them\n"
        )
        assert "passed" not in done.stdout  # refused before anything ran
        assert _files(folder) == before


def test_other_features_are_other_settings(tmp_path: Path) -> None:
    folder, features = tmp_path / "report", tmp_path / "features"
    shutil.copytree(REPO / "features", features)
    first = s1sr("run", "--clause", "18.16", "--dmc", "secure-esme", "--report-dir", str(folder))
    assert first.returncode == 0, first.stdout + first.stderr
    feature = features / "18.16-values-returned-after-adjustment.feature"
    feature.write_text(feature.read_text() + "\n# an author's note\n")
    done = s1sr(
        "run", "--clause", "18.16", "--dmc", "secure-esme", "--features", str(features), "--report-dir", str(folder)
    )
    assert done.returncode == 2 and "(features differ)" in done.stderr, done.stdout + done.stderr


def test_the_same_settings_again_or_force_replace_them(tmp_path: Path) -> None:
    folder = tmp_path / "report"
    for _ in range(2):  # a re-run after a fix
        done = s1sr("run", "--clause", "18.16", "--dmc", "secure-esme", "--report-dir", str(folder))
        assert done.returncode == 0, done.stdout + done.stderr
    done = s1sr("run", "--clause", "18.16", "--dmc", "secure-gsme", "--report-dir", str(folder), "--force")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads((folder / "results.json").read_text())["dmc"] == ["secure-gsme"]
