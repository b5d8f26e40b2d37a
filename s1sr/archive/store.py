"""The archive folder and its runs: where it is, what a run's folder is called, a run found by what a user types."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from s1sr.archive.manifest import MANIFEST, read_manifest
from s1sr.errors import InputError

#: The environment variable that names the archive folder when ``--archive-dir`` does not.
ARCHIVE_DIR_ENV = "S1SR_ARCHIVE_DIR"
#: The archive folder's name in the working folder when neither names one.
DEFAULT_ARCHIVE = "s1sr-runs"
#: A run's folder: the UTC second it began, and its id.
RUN_NAME = re.compile(r"(?P<time>\d{8}T\d{6}Z)-(?P<id>[0-9a-f]{6})")
#: The prefix of a run's folder while the run is going (hidden; renamed to the run's name at its end).
STAGING_PREFIX = ".s1sr-staging-"


def archive_folder(option: Path | None) -> Path:
    """The archive folder: ``option`` (``--archive-dir``), else ``$S1SR_ARCHIVE_DIR``, else ``./s1sr-runs``."""
    if option is not None:
        return option
    from_env = os.environ.get(ARCHIVE_DIR_ENV, "")
    return Path(from_env) if from_env else Path(DEFAULT_ARCHIVE)


def run_name(started: datetime, run_id: str) -> str:
    """The folder name of a run that began at ``started`` (UTC): ``20261126T193512Z-3f9c2a``."""
    return f"{started:%Y%m%dT%H%M%SZ}-{run_id}"


@dataclass(frozen=True)
class ArchivedRun:
    """A run's folder in the archive, and its manifest."""

    folder: Path
    manifest: dict[str, Any]

    @property
    def id(self) -> str:
        """The run's short id."""
        return str(self.manifest["id"])

    @property
    def name(self) -> str:
        """The run's folder name."""
        return str(self.manifest["name"])

    def what_was_tested(self) -> str:
        """``S1SR 4.3 on secure-esme, secure-gsme; S1SP reference`` (the DUIS target's URL; the clauses chosen)."""
        m = self.manifest
        tested = m.get("target_url") or m.get("s1sp") or "?"
        label = "target" if m.get("target_url") else "S1SP"
        settings = m.get("settings")
        clauses = settings.get("clauses") if isinstance(settings, dict) else None
        chosen = f" (clause {', '.join(map(str, clauses))})" if clauses else ""
        return f"S1SR {m['s1sr_version']}{chosen} on {', '.join(map(str, m['dmc']))}; {label} {tested}"

    def counts(self) -> str:
        """The run's counts, non-zero ones: ``3 passed, 4 failed``."""
        summary = self.manifest["summary"]
        shown = [f"{count} {outcome}" for outcome, count in summary.items() if count]
        return ", ".join(shown) or "no scenario"


def load_run(folder: Path) -> ArchivedRun:
    """The run in ``folder``; :class:`InputError` when it is not an archived run."""
    return ArchivedRun(folder, read_manifest(folder / MANIFEST))


def list_runs(archive: Path) -> tuple[list[ArchivedRun], list[str]]:
    """The archive's runs, newest first; and one line for each folder in it that is not a readable run."""
    runs: list[ArchivedRun] = []
    problems: list[str] = []
    if not archive.is_dir():
        return runs, problems
    for entry in sorted(archive.iterdir(), key=lambda p: p.name, reverse=True):
        if entry.name.startswith(".") or not entry.is_dir() or entry.is_symlink():
            continue
        if RUN_NAME.fullmatch(entry.name) is None:
            problems.append(f"{entry}: not a run's folder (a run's is named like 20261126T193512Z-3f9c2a)")
            continue
        try:
            runs.append(load_run(entry))
        except InputError as exc:
            problems.append(exc.line())
    return runs, problems


def find_run(ref: str, archive: Path) -> ArchivedRun:
    """The run ``ref`` names: its id, a unique prefix of it, its folder's name, or a path to its folder.

    :class:`InputError` (one line) for a reference that names no run, or more than one.
    """
    where = f"run '{ref}'"
    if not ref.strip():
        raise InputError("names no run", where, "give a run's id, folder name or path (see s1sr runs)")
    path = Path(ref)
    if os.sep in ref or (os.altsep and os.altsep in ref) or ref in (".", ".."):
        if not path.is_dir():
            raise InputError("is not a folder", str(path), "give a run's folder, or its id (see s1sr runs)")
        return load_run(path)
    names = _run_names(archive)
    if ref in names:
        return load_run(archive / ref)
    matches = [name for name in names if (found := RUN_NAME.fullmatch(name)) and found["id"].startswith(ref)]
    if len(matches) == 1:
        return load_run(archive / matches[0])
    if len(matches) > 1:
        raise InputError(
            f"is the start of {len(matches)} runs' ids ({', '.join(matches[:5])})",
            where,
            "give more of the id",
        )
    if path.is_dir():  # a run's folder named relative to the working folder
        return load_run(path)
    raise InputError(f"names no run in the archive {archive}", where, "see s1sr runs, or give --archive-dir")


def _run_names(archive: Path) -> list[str]:
    try:
        return sorted(e.name for e in archive.iterdir() if RUN_NAME.fullmatch(e.name) and e.is_dir())
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise InputError(f"cannot read the archive ({exc.strerror or exc})", str(archive)) from None
