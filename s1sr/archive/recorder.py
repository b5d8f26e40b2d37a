"""A run's side of the archive: its folder made (hidden) before anything runs, filled and renamed in at the end.

:meth:`RunArchive.open` makes ``.s1sr-staging-NAME`` in the archive folder before the run starts (so an
archive folder that cannot be written is a one-line error and nothing runs) and holds an ``flock`` on it
for the run's life; the run's journal is written into it when the run names no other place. At the end,
:meth:`RunArchive.keep` writes the reports and the manifest into it, flushes them to the disk and renames
it to ``NAME``: the run's folder is whole or absent. A run that ran nothing is not kept
(:meth:`RunArchive.discard`). A run killed outright leaves its hidden folder, its journal in it, unlocked:
``s1sr runs`` names it (:func:`abandoned`), and ``s1sr report`` renders its journal.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import os
import secrets
import shutil
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s1sr.archive.manifest import (
    FORMAT,
    KIND,
    MANIFEST,
    certificate_fingerprint,
    folder_inputs,
    manifest_bytes,
    run_files,
    tool_facts,
)
from s1sr.archive.rerun import JOURNAL, recorded_settings
from s1sr.archive.store import STAGING_PREFIX, run_name
from s1sr.errors import ConfigError, S1srError
from s1sr.report.files import fsync_folder, write_new_file

if TYPE_CHECKING:
    from s1sr.plugin.settings import RunSettings
    from s1sr.runner import RunOptions


@dataclass(frozen=True)
class ArchiveRequest:
    """What ``s1sr run`` asks of the archive: the folder, the command line, the run it re-runs."""

    folder: Path
    command_line: tuple[str, ...] = ()
    #: ``{"id", "name"}`` of the run this one re-runs.
    rerun_of: dict[str, str] | None = None


class RunArchive:
    """One run's folder in the archive, from before the run to its end. Not thread-safe."""

    def __init__(
        self, request: ArchiveRequest, started: datetime, name: str, staging: Path, lock: int, made: bool = False
    ) -> None:
        self.request = request
        #: Whether opening made the archive folder itself (removed again, empty, when nothing is kept).
        self.made = made
        self.started = started
        self.name = name
        self.staging = staging
        #: Where the run's journal goes when the run names no other place (absolute, as the journal's target is).
        self.journal = Path(os.path.abspath(staging / JOURNAL))
        #: The run's settings once it has run something (None: nothing ran, nothing to keep).
        self.settings: RunSettings | None = None
        self._lock: int | None = lock

    @classmethod
    def open(cls, request: ArchiveRequest) -> RunArchive:
        """Make the run's hidden folder in the archive (and the archive); :class:`ConfigError` when it cannot."""
        where = f"--archive-dir {request.folder}"
        if request.folder.exists() and not request.folder.is_dir():
            raise ConfigError("is a file, not a folder", where, "name a folder for the archive, or add --no-archive")
        started = datetime.now(UTC).replace(microsecond=0)
        made = not request.folder.exists()
        try:
            request.folder.mkdir(parents=True, exist_ok=True)
            name, staging = _new_folder(request.folder, started)
            lock = os.open(staging, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as exc:
            raise ConfigError(
                f"cannot write the run's archive here ({exc.strerror or exc})",
                where,
                "choose a writable folder, or add --no-archive",
            ) from None
        fcntl.flock(lock, fcntl.LOCK_EX)  # a folder of ours just made: nobody else holds it
        return cls(request, started, name, staging, lock, made)

    def facts(self) -> dict[str, str]:
        """The run's place in the archive, as its record carries it (the report header shows it): ``id``, ``name``."""
        return {"id": self.name.rpartition("-")[2], "name": self.name}

    def run_options(self, options: RunOptions) -> RunOptions:
        """``options`` with the journal in the run's folder, when the run names no journal and no report folder."""
        if options.journal is None and options.report_dir is None:
            return dataclasses.replace(options, journal=self.journal)
        return options

    def keep(self, options: RunOptions) -> Path:
        """Write the reports and the manifest, and rename the folder in; its final path.

        :class:`S1srError` (one line) when it cannot be written: the run's folder is then not in the archive,
        and its hidden folder is left, unlocked, with the journal (``s1sr report`` renders it).
        """
        settings = self.settings
        if settings is None:
            raise RuntimeError("nothing ran: discard the archive instead")
        from s1sr.report.writer import report_contents

        final = self.request.folder / self.name
        try:
            journal = settings.journal.path if settings.journal is not None else None
            if journal is not None and journal != self.journal and journal.is_file():  # --journal, or --report-dir's
                _copy(journal, self.journal)
            # The record the reports are rendered from carries the archive id and certificate fingerprints
            # (the run put them there before it started), so the archived index.html shows its own id.
            settings.record.archive = settings.record.archive or self.facts()
            for name, data in report_contents(settings.record, settings.catalogue).items():
                write_new_file(self.staging / name, data)
            manifest = self._manifest(options, settings)
            write_new_file(self.staging / MANIFEST, manifest_bytes(manifest))
            fsync_folder(self.staging)
            os.rename(self.staging, final)
            fsync_folder(self.request.folder)
        except OSError as exc:
            raise S1srError(
                f"the run was not archived ({exc.strerror or exc}); its journal is in {self.staging}",
                f"--archive-dir {self.request.folder}",
                "free space or choose a writable folder",
            ) from None
        finally:
            self.release()
        return final

    def discard(self) -> None:
        """Remove the run's hidden folder (nothing ran, or it could not be kept). Idempotent."""
        shutil.rmtree(self.staging, ignore_errors=True)
        self.release()
        if self.made:
            with contextlib.suppress(OSError):  # not empty: another run keeps something there now
                self.request.folder.rmdir()

    def release(self) -> None:
        """Let go of the run's hidden folder, leaving it as it is (a run killed now would leave it so). Idempotent."""
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    def _manifest(self, options: RunOptions, settings: RunSettings) -> dict[str, Any]:
        record = settings.record
        verdict, reason = record.verdict_and_reason()
        tool = record.tool or {}
        target = settings.target_class.options if settings.target_class is not None else None
        return {
            "manifest": KIND,
            "format": FORMAT,
            "id": self.facts()["id"],
            "name": self.name,
            "rerun_of": self.request.rerun_of,
            "started": self.started.isoformat(),
            "finished": datetime.now(UTC).replace(microsecond=0).isoformat(),
            "host": socket.gethostname(),
            "command_line": list(self.request.command_line),
            "tool": tool_facts(tool.get("source")),
            "s1sr_version": record.s1sr_version,
            "dmc": list(record.dmc),
            "adapter": record.adapter,
            "adapter_options": dict(settings.adapter_options),
            "target": settings.target,
            "s1sp": record.s1sp,
            "target_url": target.url if target is not None else None,
            "xsd": record.xsd,
            "signing": record.tool.get("signing")
            or signing_facts(settings, options.workers > 0, options.signing_key is not None),
            "verdict": verdict,
            "verdict_reason": reason,
            "exit_code": record.exit_code(),
            "interrupted": record.interrupted,
            "summary": record.summary(),
            "waivers": record.deviations,
            "inputs": {
                "features_sha256": tool.get("features_sha256"),
                "catalogue_sha256": tool.get("catalogue_sha256"),
                "features": [folder_inputs(folder, "*.feature") for folder in settings.feature_dirs],
                "catalogue": [folder_inputs(folder, "*") for folder in _catalogue_folders()],
            },
            "settings": recorded_settings(options, settings),
            "files": run_files(self.staging),
        }


def _copy(source: Path, target: Path) -> None:
    """Copy a file and flush the copy to the disk (the folder is renamed in only once every file is there)."""
    with source.open("rb") as reader, target.open("wb") as writer:
        shutil.copyfileobj(reader, writer, 2**20)
        writer.flush()
        os.fsync(writer.fileno())


def _new_folder(archive: Path, started: datetime) -> tuple[str, Path]:
    """A run name not yet in ``archive`` and its hidden folder, made (a new random id while a name is taken)."""
    while True:
        name = run_name(started, secrets.token_hex(3))
        staging = archive / f"{STAGING_PREFIX}{name}"
        if (archive / name).exists():
            continue
        try:
            staging.mkdir()
        except FileExistsError:
            continue
        return name, staging


def signing_facts(settings: RunSettings, on_workers: bool, key_given: bool) -> dict[str, Any]:
    """The certificates the run's SMETS1 Responses are signed with (or trusted to be), and the User's over DUIS.

    ``source``, ``responses`` and ``user`` (``sha256`` of the DER and ``subject`` of each), ``note``: the
    manifest's ``signing``, and ``results.json``'s ``tool.signing`` (the report header shows it).
    """
    target = settings.target_class
    if target is not None and target.settings is not None:
        return {
            "source": "the DUIS endpoint's signing key (the certificates trusted with --trust)",
            "responses": [certificate_fingerprint(c) for c in settings.s1sp_certificates],
            "user": certificate_fingerprint(target.settings.user.cert_pem),
            "note": None,
        }
    credentials = settings.credentials
    if on_workers and not key_given:
        # Each worker process generates its own test key: the one this process holds signed nothing.
        return {
            "source": credentials.source,
            "responses": [],
            "user": None,
            "note": "each worker process generated a test key of its own, not kept; give --signing-key to record one",
        }
    return {
        "source": credentials.source,
        "responses": [certificate_fingerprint(credentials.cert_pem)],
        "user": None,
        "note": None,
    }


def _catalogue_folders() -> list[Path]:
    """The catalogue folders a run reads: the shipped data, and the folder ``--catalogue`` put in front of it."""
    from s1sr.catalogue import catalogue_dir

    shipped = Path(__file__).resolve().parent.parent / "catalogue" / "data"
    chosen = catalogue_dir()
    return [folder for folder in (chosen, shipped) if folder is not None and folder.is_dir()]


def abandoned(archive: Path) -> list[Path]:
    """Hidden run folders no live run holds: runs killed before their end (their journal is inside)."""
    found: list[Path] = []
    if not archive.is_dir():
        return found
    for entry in sorted(archive.iterdir()):
        if not entry.name.startswith(STAGING_PREFIX) or not entry.is_dir():
            continue
        try:
            handle = os.open(entry, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError:
            continue
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            found.append(entry)
        except BlockingIOError:
            pass  # a run is going
        finally:
            os.close(handle)
    return found
