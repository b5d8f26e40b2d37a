"""Where a run's features, steps and catalogue came from: the git commit of their checkout, and whether it was clean.

A release manager archives a verdict with what produced it. A plain install has no checkout
(``None``); a checkout gives its commit and a dirty flag for the folders that decide verdicts.
"""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path
from typing import Any

#: The folders of a checkout whose state decides verdicts.
JUDGING_PATHS = ("features", "steps", "s1sr")
#: Seconds allowed to each git command: a hung git never holds a run.
GIT_TIMEOUT_S = 5.0


@cache
def source_state(root: Path) -> dict[str, Any] | None:
    """``{"commit": SHA, "dirty": bool}`` for the checkout holding ``root``, or None outside one (or without git)."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=GIT_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout if done.returncode == 0 else None

    top = git("rev-parse", "--show-toplevel")
    commit = git("rev-parse", "HEAD")
    if top is None or commit is None:
        return None
    status = git("status", "--porcelain", "--", *(str(Path(top.strip()) / p) for p in JUDGING_PATHS))
    return {"commit": commit.strip(), "dirty": bool(status and status.strip())}
