"""``s1sr check``: the feature files checked as an author writes them, before anything runs."""

from __future__ import annotations

import sys
from pathlib import Path

from s1sr.cli.app import FEATURES_OPTION, err, main, out


@main.command()
@FEATURES_OPTION
def check(feature_dirs: tuple[Path, ...]) -> None:
    """Check the feature files: clause, SRV and version tags known, a clause on every scenario, every step defined.

    Each problem is one line, FILE:LINE: what; fix. Exit code 0: none; 2: problems found.
    """
    from s1sr.authoring import check_authoring
    from s1sr.bundle import features_dir
    from s1sr.errors import InputError

    folders = list(feature_dirs) or [features_dir()]
    for folder in folders:
        if not folder.is_dir():
            raise InputError("feature folder does not exist", str(folder), "pass an existing folder to --features")
    problems = check_authoring(folders)
    for problem in problems:
        err.print(f"s1sr: error: {problem}", markup=False)
    if problems:
        sys.exit(2)
    files = sum(1 for folder in folders for _ in folder.rglob("*.feature"))
    out.print(f"{files} feature file(s) checked: every tag known, every scenario has a clause, every step defined")
