"""Exclusive leases on rigs that hold across processes: one ``flock``-ed file per rig.

A process (the run itself, or one of its pytest-xdist workers) leases a rig for one scenario by
taking an exclusive ``flock`` on the rig's lock file, and lets it go when the scenario ends. The
kernel drops the lock of a process that dies, so a killed worker never keeps a rig. The files are
in one folder per user (:func:`locks_folder`), named after the rig's endpoint, so two runs on one
machine never drive the same rig at once either (runs on other machines are not seen).

A rig that stops answering leaves the pool for the rest of its run: the process holding it writes
``{"run": RUN, "left": WHY}`` into the lock file before it lets go, and every process of the run (the
same ``run`` token) that takes the lock afterwards reads the mark and passes the rig by. A mark of
another run is ignored, and replaced when a rig leaves in this one.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import stat
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from s1sr.errors import ConfigError

#: Environment variable naming the folder of the lock files (default: :func:`locks_folder`).
LOCKS_VARIABLE = "S1SR_RIG_LOCKS"
#: Most bytes of a lock file read (a mark is one short line).
MAX_MARK_BYTES = 4096
#: The first and the longest pause between two rounds of tries while every rig is busy.
FIRST_PAUSE_S, LONGEST_PAUSE_S = 0.02, 0.2


class NoRigLeft(Exception):
    """Every rig asked for has left the pool in this run; ``left`` says why each did (by key)."""

    def __init__(self, left: dict[str, str]) -> None:
        super().__init__(f"{len(left)} rig(s) left the pool")
        self.left = left


class NoRigFree(Exception):
    """No rig asked for came free within the wait."""

    def __init__(self, wait_s: float) -> None:
        super().__init__(f"no rig came free within {wait_s:g} s")
        self.wait_s = wait_s


def locks_folder() -> Path:
    """The folder of the lock files, made if missing: ``$S1SR_RIG_LOCKS``, else ``s1sr-rigs-UID`` in the temp folder.

    It must be a folder of this user's that nobody else may write (a shared temp folder lets anyone
    make a name first): :class:`ConfigError` naming it otherwise.
    """
    given = os.environ.get(LOCKS_VARIABLE)
    folder = Path(given) if given else Path(tempfile.gettempdir()) / f"s1sr-rigs-{os.getuid()}"
    where = f"{folder} (the rigs' lock files{', ' + LOCKS_VARIABLE if given else ''})"
    try:
        folder.mkdir(mode=0o700, parents=bool(given), exist_ok=True)
        found = os.lstat(folder)
    except OSError as exc:
        raise ConfigError(
            f"cannot be made ({exc.strerror or exc})", where, f"set {LOCKS_VARIABLE} to a folder of yours"
        ) from None
    if not stat.S_ISDIR(found.st_mode) or found.st_uid != os.getuid() or found.st_mode & 0o022:
        raise ConfigError(
            "is not a folder of this user's that only this user may write",
            where,
            f"remove it, or set {LOCKS_VARIABLE} to a folder of yours",
        )
    return folder


class Lease:
    """One rig held by this process until :meth:`release` (or until the process ends)."""

    def __init__(self, key: str, handle: int, run: str, known_left: dict[str, str]) -> None:
        self.key = key
        self._handle: int | None = handle
        self._run = run
        self._known_left = known_left
        #: Why the rig left the pool while held (empty: it did not).
        self.left = ""

    def leave(self, why: str) -> bool:
        """Mark the rig out of the pool for the rest of the run; True the first time (a write that fails is ignored).

        Written before the lock is let go, so the next holder of this run sees it.
        """
        if self.left or self._handle is None:
            return False
        self.left = self._known_left[self.key] = why or "no reason given"
        mark = json.dumps({"run": self._run, "left": self.left}, ensure_ascii=False).encode("utf-8")[:MAX_MARK_BYTES]
        try:
            os.ftruncate(self._handle, 0)
            os.pwrite(self._handle, mark, 0)
        except OSError:
            pass  # the rig still leaves this process's pool; the others find out by its failures
        return True

    def release(self) -> None:
        """Let the rig go (closing the file drops the lock). Idempotent."""
        if self._handle is not None:
            os.close(self._handle)
            self._handle = None


class RigLeases:
    """This process's side of the leases of one run (``run``: a token every process of the run shares)."""

    def __init__(self, run: str, folder: Path) -> None:
        self.run = run
        self.folder = folder
        #: Rigs found out of the pool in this run, by key: why each left.
        self.left: dict[str, str] = {}

    def acquire(self, keys: Sequence[str], wait_s: float, prefer: str | None = None) -> Lease:
        """A lease on one of ``keys`` (``prefer`` tried first), waiting at most ``wait_s`` while all are busy.

        Raises :class:`NoRigLeft` when every one of them has left the pool, :class:`NoRigFree` when
        none came free in time.
        """
        order = sorted(keys, key=lambda key: key != prefer)
        deadline = time.monotonic() + wait_s
        pause = FIRST_PAUSE_S
        while True:
            for key in order:
                if key not in self.left:
                    lease = self._try(key)
                    if lease is not None:
                        return lease
            if all(key in self.left for key in keys):
                raise NoRigLeft({key: self.left[key] for key in keys})
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise NoRigFree(wait_s)
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, LONGEST_PAUSE_S)

    def _try(self, key: str) -> Lease | None:
        """The lease on ``key`` if it is free and still in the pool, else None (a left rig is noted)."""
        name = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32] + ".lock"
        handle = os.open(self.folder / name, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(handle)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                return None
            raise
        why = self._left_because(handle)
        if why is not None:
            self.left[key] = why
            os.close(handle)
            return None
        return Lease(key, handle, self.run, self.left)

    def _left_because(self, handle: int) -> str | None:
        """Why the rig left the pool in this run, from its lock file; None when it has not."""
        try:
            mark = json.loads(os.pread(handle, MAX_MARK_BYTES, 0) or b"{}")
        except (OSError, ValueError):
            return None  # no readable mark: the rig has not left in this run
        if isinstance(mark, dict) and mark.get("run") == self.run:
            return str(mark.get("left") or "no reason given")
        return None
