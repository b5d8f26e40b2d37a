"""A report folder, claimed before a run and replaced as one set after it: never a part, never a mix of two runs.

``claim_report_dir(DIR)`` runs before any scenario. It proves the folder can be written (it writes, flushes
and removes a file beside it), refuses a folder that holds things that are not s1sr reports, and takes a lock
that a second run into the same folder is refused by. ``claim.publish(files)`` then puts the run's files in
place as a set, and ``claim.release()`` lets the next run in.

How the set is swapped in, and why this way
-------------------------------------------
Renaming the files one by one (what s1sr did before) leaves a mix when a run is killed between two renames,
and a reader can see one at any time. Only one name can be changed in one step, so the set must be one
folder. Two ways were weighed:

- ``DIR`` as a symbolic link to the current set's folder, replaced by renaming a new link over it. It works
  on any POSIX file system, but ``DIR`` stops being a folder: ``tar``, ``zip`` and CI artifact uploaders
  archive the link and not the reports, ``cp -r`` copies the link, a relative link breaks when its parent
  is moved, and an existing real ``DIR`` (earlier versions, an empty folder made for the run) could only
  become a link by removing it first, which is not atomic.
- ``DIR`` stays a real folder. The new set is written into a staging folder beside it (the same parent,
  so the same file system), every file and the folder flushed to the disk, and the two folders are
  exchanged in one system call: ``renameat2(RENAME_EXCHANGE)`` on Linux (3.15 and later; ext4, XFS,
  Btrfs, tmpfs, overlayfs), ``renamex_np(RENAME_SWAP)`` on macOS. At every instant ``DIR`` is a whole
  set, old or new; the old set, now under the staging name, is removed afterwards.

The second is used. Where the exchange is not available (NFS, SMB, most FUSE file systems, other
systems; found when the folder is claimed, ``claim.atomic`` is False) the set is swapped in with two
renames, ``DIR`` aside then the staging folder to ``DIR``: for the instant between them ``DIR`` is absent
(never a part or a mix), and a run killed in that instant leaves the new, complete set beside ``DIR``,
which the next claim moves in. A ``DIR`` that is a mount point cannot be renamed at all: it is refused
when claimed, with the fix (a folder inside it).

What is not ours
----------------
A report folder may hold the report set and the consultation pack (``s1sr consultation`` writes it
beside the reports); a folder that holds anything else is refused when claimed, so that a mistyped
``--report-dir ~`` never replaces a home folder. Files that appear in ``DIR`` during a run are carried
into the new set (hard links, a copy where the file system has none); folders are moved across just
after the swap (absent from ``DIR`` for that instant); the next claim then refuses the folder, naming
them, as it would have before the run. Nothing that is not ours is ever
deleted: a leftover folder is emptied only of report files and of files that ``DIR`` holds too;
anything else is moved back into ``DIR`` (or left where it is when the name is taken there).

The lock and the leftovers
--------------------------
For a folder named ``NAME``, the lock is ``fcntl.flock`` on ``.NAME.s1sr-lock`` beside it (not inside
it: ``DIR`` is swapped, and a lock file inside would leave with the old set). The kernel drops it when
its process ends, killed or not, so a killed run never leaves it stuck; a process forked from the run
holds it until it ends too. It holds the run's process id, for the message a second run gets, and is
removed on release. A killed run may leave ``.NAME.s1sr-staging-*``, ``.NAME.s1sr-old-*`` or
``.NAME.s1sr-probe-*`` beside ``DIR``: the next claim removes them, holding the lock, so never while a
run uses them.

A shell whose working folder is ``DIR`` keeps the replaced folder (``cd`` into it again); ``DIR``
that is the working folder of the run itself is refused. POSIX only (``fcntl``), like the rest of s1sr's
signal handling.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import re
import secrets
import shutil
import stat
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType

from s1sr.errors import ConfigError, S1srError
from s1sr.report.files import (
    EXCHANGE_UNSUPPORTED,
    Content,
    exchange_folders,
    fsync_folder,
    write_new_files,
)

#: The files of one run's report set, every one written by ``claim.publish``.
REPORT_FILES = ("index.html", "junit.xml", "cucumber.json", "results.json")

#: Files other s1sr commands write into a report folder; kept, and carried into each new set.
COMPANION_FILES = ("consultation.md", "consultation.docx")


class ReportNotWritten(S1srError):
    """The run finished but its report set could not be put in place; the previous set is unchanged."""


class ReportDirClaim:
    """A report folder held by this process: publish report sets into it, then release it.

    Made by ``claim_report_dir``; not thread-safe. ``folder`` is the real path (symbolic links resolved),
    ``atomic`` is False where the file system cannot exchange two folders in one step (see the module
    docstring for what that changes).
    """

    def __init__(self, folder: Path, where: str, atomic: bool, lock: _Lock) -> None:
        self.folder = folder
        self.where = where
        self.atomic = atomic
        self._lock: _Lock | None = lock

    @property
    def held(self) -> bool:
        """True until ``release``."""
        return self._lock is not None

    def publish(self, files: Mapping[str, Content], parallel: int = 1) -> Path:
        """Replace the report set in the folder by ``files`` (name to content: bytes, or a function writing them),
        as a whole, writing up to ``parallel`` of them at once (:func:`~s1sr.report.files.write_new_files`);
        return the folder.

        After this returns, the folder holds exactly these files (and the companions and files not ours it
        held), flushed to the disk. Interrupted at any point, by an exception, a signal or SIGKILL, it leaves
        the folder with the previous set, whole. Raises ``ReportNotWritten`` when the set cannot be written
        (a full disk, an I/O error); the previous set is then unchanged.
        """
        if self._lock is None:
            raise RuntimeError(f"the claim on {self.folder} was released; claim the folder again to publish")
        names = _plain_names(files)
        ours = frozenset(REPORT_FILES) | names
        token = secrets.token_hex(6)
        staging = _sibling(self.folder, "staging", token)
        previous: Path | None = None
        swapped = False
        try:
            os.mkdir(staging)
            _keep_mode(self.folder, staging)
            write_new_files(staging, files, parallel)
            _carry(self.folder, staging, ours)
            fsync_folder(staging)
            previous = self._swap_in(staging, token)
            swapped = True
            fsync_folder(self.folder.parent)
        except OSError as exc:
            _abandon(staging, previous, self.folder, ours)
            if swapped:
                raise ReportNotWritten(
                    f"the reports are in place but could not be flushed to the disk ({exc.strerror})",
                    self.where,
                    "check the disk",
                ) from None
            raise ReportNotWritten(
                f"cannot write the reports ({exc.strerror}); the previous reports are unchanged",
                self.where,
                "free space or choose a writable folder, and run again",
            ) from None
        except BaseException:
            _abandon(staging, previous, self.folder, ours)
            raise
        _discard_quietly(previous, self.folder, ours)
        return self.folder

    def release(self) -> None:
        """Let other runs claim the folder; the next claim removes what a killed publish left. Idempotent."""
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> ReportDirClaim:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.release()

    def _swap_in(self, staging: Path, token: str) -> Path | None:
        """Put ``staging`` at the folder's name; return where the previous set now is (None if there was none)."""
        if self.atomic:
            try:
                exchange_folders(staging, self.folder)
                return staging
            except FileNotFoundError:  # the folder was removed during the run: nothing to exchange with
                os.rename(staging, self.folder)
                return None
            except OSError as exc:
                if exc.errno not in EXCHANGE_UNSUPPORTED:
                    raise
                self.atomic = False
        aside = _sibling(self.folder, "old", token)
        try:
            os.rename(self.folder, aside)
        except FileNotFoundError:
            os.rename(staging, self.folder)
            return None
        # a kill from here to the next rename leaves the folder absent, staging-<token> whole beside it and
        # old-<token>: _recover (in publish, or at the next claim) moves the new set in
        try:
            os.rename(staging, self.folder)
        except BaseException:
            with contextlib.suppress(OSError):
                os.rename(aside, self.folder)  # the previous set back; if even that fails, the next claim
            raise
        return aside


def claim_report_dir(folder: Path, option: str = "--report-dir") -> ReportDirClaim:
    """Claim ``folder`` for this run's reports before anything runs; ``ConfigError`` (one line) when it cannot be.

    Creates the folder (and its parents) when needed; proves it writable by writing, flushing and removing
    a file beside it; refuses a folder that another run holds, a mount point, the working folder, and a
    folder holding anything but s1sr reports. ``option`` names the setting in messages (``--s1sr-results``
    for plain pytest runs). Hold the claim for the whole run, then ``publish`` and ``release``.
    """
    where = f"{option} {folder}"
    real = Path(os.path.realpath(folder))
    if real.parent == real:
        raise ConfigError("is the root of the file system", where, f"choose a folder for the reports with {option}")
    working = Path.cwd().resolve()
    if working == real or real in working.parents:
        raise ConfigError(
            "is the working folder (or holds it), and publishing the reports replaces the folder as a whole",
            where,
            "choose a subfolder, such as ./report",
        )
    if real.exists() and not real.is_dir():
        raise ConfigError("is a file, not a folder", where, "choose a folder")
    existing = next(p for p in real.parents if os.path.lexists(p))
    if not existing.is_dir():
        raise ConfigError(f"cannot write here ({existing} is a file, not a folder)", where, "choose a writable folder")
    _check_not_mount_point(real, where, option)  # before anything is written beside it
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
        lock = _Lock.take(_sibling(real, "lock"))
    except _LockHeld as held:
        raise ConfigError(held.what(), where, f"wait for it or choose another {option}") from None
    except OSError as exc:
        raise _unwritable(exc, where) from None
    try:
        _recover(real)
        for leftover in _leftovers(real):
            _discard(leftover, real, frozenset(REPORT_FILES))
        atomic = _probe(real)
        if not real.exists():
            real.mkdir()
            fsync_folder(real.parent)
        _check_folder(real, where, option)
    except OSError as exc:
        lock.release()
        raise _unwritable(exc, where) from None
    except BaseException:
        lock.release()
        raise
    return ReportDirClaim(real, where, atomic, lock)


def _unwritable(exc: OSError, where: str) -> ConfigError:
    return ConfigError(f"cannot write here ({exc.strerror or exc})", where, "choose a writable folder")


def _check_folder(real: Path, where: str, option: str) -> None:
    """Refuse a folder the set cannot be swapped into, or that holds things that are not s1sr reports."""
    _check_not_mount_point(real, where, option)
    if not os.access(real, os.W_OK | os.X_OK):
        raise ConfigError("cannot write here (Permission denied)", where, "choose a writable folder")
    foreign = sorted(
        entry.name + ("/" if entry.is_dir(follow_symlinks=False) else "")
        for entry in os.scandir(real)
        if not (_is_ours(entry, frozenset(REPORT_FILES)) or _is_companion(entry))
    )
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        raise ConfigError(
            f"holds {shown}, which {'is not an s1sr report' if len(foreign) == 1 else 'are not s1sr reports'}",
            where,
            "choose a new or empty folder for the reports, or move those out",
        )


def _check_not_mount_point(real: Path, where: str, option: str) -> None:
    if os.path.isdir(real) and (_is_mount_point(real) or real.stat().st_dev != real.parent.stat().st_dev):
        raise ConfigError(
            "is a mount point, and a report set is swapped in by renaming the folder",
            where,
            f"choose a folder inside it, such as {option} {real / 'report'}",
        )


# --- names beside the folder ---------------------------------------------------------


def _stem(folder: Path) -> str:
    """The folder's name as used in the names of its lock and leftovers (bounded, for NAME_MAX)."""
    name = folder.name
    if len(name) <= 64:
        return name
    return f"{name[:40]}-{hashlib.sha256(os.fsencode(name)).hexdigest()[:16]}"


def _sibling(folder: Path, kind: str, token: str = "") -> Path:
    """``.NAME.s1sr-KIND-TOKEN`` beside the folder: same parent, so the same file system."""
    return folder.parent / f".{_stem(folder)}.s1sr-{kind}{'-' + token if token else ''}"


def _leftover_pattern(folder: Path) -> re.Pattern[str]:
    return re.compile(re.escape(f".{_stem(folder)}.s1sr-") + r"(staging|old|probe)-([0-9a-f]{12})")


def _leftovers(folder: Path) -> list[Path]:
    """What killed runs left beside the folder (call holding the lock: a live run's staging looks the same)."""
    pattern = _leftover_pattern(folder)
    return sorted(p for p in folder.parent.iterdir() if pattern.fullmatch(p.name))


def _recover(folder: Path) -> None:
    """Finish a two-rename swap that was cut between its renames: the folder is absent, both sets beside it.

    The old set is moved aside only once the new one is whole, so the new one goes in; an old set alone
    (its new set already removed) goes back.
    """
    if os.path.lexists(folder):
        return
    pattern = _leftover_pattern(folder)
    found = {(m[1], m[2]) for p in folder.parent.iterdir() if (m := pattern.fullmatch(p.name))}
    for kind, token in sorted(found, key=lambda pair: pair[0] != "staging"):
        if kind in ("staging", "old") and ("old", token) in found:
            try:
                os.rename(_sibling(folder, kind, token), folder)
            except OSError:
                continue
            fsync_folder(folder.parent)
            return


def _abandon(staging: Path, previous: Path | None, folder: Path, ours: frozenset[str]) -> None:
    """After a failed or interrupted publish: the folder whole again, then what is beside it removed.

    Before the swap the staging folder holds the unfinished new set; after an exchange it holds the
    previous set, whose removal was due anyway.
    """
    with contextlib.suppress(OSError):  # the next claim tries again
        _recover(folder)
    _discard_quietly(staging, folder, ours)
    _discard_quietly(previous, folder, ours)


# --- what is ours ----------------------------------------------------------------------

# write_atomically's temporary names (mkstemp: the prefix, then 8 of [a-z0-9_]) for our files
_TEMPORARY = re.compile(r"\.(" + "|".join(re.escape(n) for n in REPORT_FILES + COMPANION_FILES) + r")\.[a-z0-9_]{8}")


def _is_ours(entry: os.DirEntry[str], ours: Iterable[str]) -> bool:
    """A report file (or an interrupted write of one): replaced by each new set, never carried."""
    return entry.is_file(follow_symlinks=False) and (entry.name in ours or bool(_TEMPORARY.fullmatch(entry.name)))


def _is_companion(entry: os.DirEntry[str]) -> bool:
    return entry.name in COMPANION_FILES and entry.is_file(follow_symlinks=False)


def _plain_names(files: Mapping[str, Content]) -> frozenset[str]:
    for name in files:
        if not name or name.startswith(".") or "/" in name or "\0" in name or (os.altsep and os.altsep in name):
            raise ValueError(f"a report file name must be a plain, visible file name, not {name!r}")
    return frozenset(files)


def _same_entry(entry: os.DirEntry[str], other: Path) -> bool:
    """``other`` is the same file as ``entry``: a hard link to it, or a copy that kept its size and time."""
    try:
        theirs = os.lstat(other)
    except FileNotFoundError:
        return False
    mine = entry.stat(follow_symlinks=False)
    if (mine.st_dev, mine.st_ino) == (theirs.st_dev, theirs.st_ino):
        return True
    return (
        stat.S_ISREG(mine.st_mode)
        and stat.S_ISREG(theirs.st_mode)
        and (mine.st_size, mine.st_mtime_ns) == (theirs.st_size, theirs.st_mtime_ns)
    )


def _keep_mode(folder: Path, staging: Path) -> None:
    """The new set's folder keeps the permissions the user gave the folder."""
    with contextlib.suppress(FileNotFoundError):
        os.chmod(staging, stat.S_IMODE(os.stat(folder).st_mode))


def _carry(folder: Path, staging: Path, ours: frozenset[str]) -> None:
    """Link into the new set what the folder holds that is not a report file: companions, and files not ours."""
    for entry in os.scandir(folder):
        if _is_ours(entry, ours) or entry.name in ours or entry.is_dir(follow_symlinks=False):
            continue  # folders cannot be linked: _discard moves them back after the swap
        target = staging / entry.name
        try:
            os.link(entry.path, target, follow_symlinks=False)
        except OSError:  # a file system without hard links
            shutil.copy2(entry.path, target, follow_symlinks=False)


def _discard(leftover: Path | None, folder: Path, ours: frozenset[str]) -> None:
    """Remove a set that is not (or no longer) in the folder; move back into the folder anything not ours."""
    if leftover is None:
        return
    if leftover.name.startswith(f".{_stem(folder)}.s1sr-probe-"):
        shutil.rmtree(leftover, ignore_errors=True)  # holds only what _probe made
        return
    try:
        entries = list(os.scandir(leftover))
    except FileNotFoundError:
        return
    for entry in entries:
        if _is_ours(entry, ours) or _same_entry(entry, folder / entry.name):
            os.unlink(entry.path)
        else:
            _move_back(entry, folder)
    try:
        os.rmdir(leftover)
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT):
            raise


def _discard_quietly(leftover: Path | None, folder: Path, ours: frozenset[str]) -> None:
    """``_discard``, leaving for the next claim what cannot be removed now."""
    with contextlib.suppress(OSError):
        _discard(leftover, folder, ours)


def _move_back(entry: os.DirEntry[str], folder: Path) -> None:
    """Put an entry that is not ours back into the folder, never over something there; else leave it."""
    target = folder / entry.name
    try:
        if entry.is_dir(follow_symlinks=False):
            if not os.path.lexists(target):
                os.rename(entry.path, target)
        else:
            os.link(entry.path, target, follow_symlinks=False)  # fails if the name is taken: nothing replaced
            os.unlink(entry.path)
    except OSError:
        pass


# --- the write test --------------------------------------------------------------------


def _probe(folder: Path) -> bool:
    """Write, flush and remove a file beside the folder; return whether two folders can be exchanged there."""
    probe = _sibling(folder, "probe", secrets.token_hex(6))
    os.mkdir(probe)
    try:
        handle = os.open(probe / "write-test", os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            os.write(handle, b"s1sr" * 1024)  # a whole block: a full disk refuses it
            os.fsync(handle)
        finally:
            os.close(handle)
        os.mkdir(probe / "a")
        os.mkdir(probe / "b")
        try:
            exchange_folders(probe / "a", probe / "b")
        except OSError as exc:
            if exc.errno not in EXCHANGE_UNSUPPORTED:
                raise
            return False
        return True
    finally:
        shutil.rmtree(probe, ignore_errors=True)


def _is_mount_point(folder: Path) -> bool:
    """True for a mount point, bind mounts included (``os.path.ismount`` does not see those on Linux)."""
    if os.path.ismount(folder):
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        lines = Path("/proc/self/mountinfo").read_text(encoding="utf-8", errors="surrogateescape").splitlines()
    except OSError:
        return False
    points = {re.sub(r"\\([0-7]{3})", lambda m: chr(int(m[1], 8)), line.split()[4]) for line in lines if line}
    return str(folder) in points


# --- the lock ----------------------------------------------------------------------------


class _LockHeld(Exception):
    """Another process holds the folder's lock."""

    def __init__(self, pid: int | None) -> None:
        super().__init__(pid)
        self.pid = pid

    def what(self) -> str:
        if self.pid is None:
            return "another s1sr run is writing reports here"
        if self.pid == os.getpid():
            return f"this s1sr run (pid {self.pid}) has already claimed this folder"
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return f"a process left by s1sr run pid {self.pid}, which has ended, still holds this folder's lock"
        except PermissionError:
            pass  # it exists, as another user
        return f"another s1sr run (pid {self.pid}) is writing reports here"


class _Lock:
    """An exclusive ``flock`` on the lock file beside the folder; the kernel drops it when the process ends."""

    def __init__(self, path: Path, handle: int) -> None:
        self.path = path
        self.handle = handle

    @classmethod
    def take(cls, path: Path) -> _Lock:
        """Take the lock without waiting; ``_LockHeld`` when another process has it."""
        while True:
            handle = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pid = _read_pid(handle)
                os.close(handle)
                raise _LockHeld(pid) from None
            except BaseException:
                os.close(handle)
                raise
            # a holder removes the file as it releases: the lock counts only on the file the path still names
            mine = os.fstat(handle)
            try:
                named = os.stat(path)
            except FileNotFoundError:
                named = None
            if named is not None and (named.st_dev, named.st_ino) == (mine.st_dev, mine.st_ino):
                lock = cls(path, handle)
                try:
                    os.ftruncate(handle, 0)
                    os.pwrite(handle, f"{os.getpid()}\n".encode(), 0)
                except BaseException:
                    lock.release()
                    raise
                return lock
            os.close(handle)

    def release(self) -> None:
        """Remove the lock file, then drop the lock."""
        try:
            named = os.stat(self.path)
            mine = os.fstat(self.handle)
            if (named.st_dev, named.st_ino) == (mine.st_dev, mine.st_ino):
                os.unlink(self.path)
        except OSError:
            pass
        os.close(self.handle)


def _read_pid(handle: int) -> int | None:
    try:
        text = os.pread(handle, 32, 0).decode("ascii").strip()
        return int(text) if text.isdigit() else None
    except (OSError, UnicodeDecodeError):
        return None
