"""File-system steps the reports are written with: durable writes, atomic renames, and the swap of two folders."""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import sys
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

#: Report files are for sharing, whatever the umask.
FILE_MODE = 0o644

#: What ``exchange_folders`` raises when this system or file system cannot swap two folders in one step.
EXCHANGE_UNSUPPORTED = frozenset({errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP})


def write_new_file(path: Path, data: bytes) -> None:
    """Create ``path`` (it must not exist), write all of ``data`` and flush it to the disk before returning."""
    _write_all(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE), data)


def _write_all(handle: int, data: bytes) -> None:
    """Write ``data`` through ``handle`` with the sharing mode, flush it to the disk, close the handle."""
    try:
        os.fchmod(handle, FILE_MODE)  # mkstemp makes 0600, and the umask may take bits away
        view = memoryview(data)
        while view:  # os.write may write less than asked
            view = view[os.write(handle, view) :]
        os.fsync(handle)
    finally:
        os.close(handle)


def fsync_folder(folder: Path) -> None:
    """Flush a folder's entries (names created, renamed or removed in it) to the disk."""
    handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def write_atomically(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that a reader sees the old file or the whole new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        _write_all(handle, data)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)
    return path


def exchange_folders(first: Path, second: Path) -> None:
    """Swap the two names in one step: a reader, or a process killed at any moment, sees both or neither swapped.

    Both must exist on the same file system. Raises ``OSError``; its errno is in ``EXCHANGE_UNSUPPORTED``
    when the system or the file system cannot do it (Linux before 3.15, NFS, SMB, most FUSE).
    """
    call = _exchange_call()
    if call is None:
        raise OSError(errno.ENOSYS, f"no atomic exchange of folders on {sys.platform}")
    if call(os.fsencode(first), os.fsencode(second)) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(first), None, str(second))


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2  # linux/fs.h
_RENAME_SWAP = 2  # macOS sys/stdio.h
_SYS_RENAMEAT2 = {"x86_64": 316, "aarch64": 276}  # for a C library without the renameat2 wrapper (glibc < 2.28)


@cache
def _exchange_call() -> Callable[[bytes, bytes], int] | None:
    """The C call that exchanges two paths, or None where there is none."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = getattr(libc, "renameat2", None)
        if renameat2 is not None:
            renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
            renameat2.restype = ctypes.c_int
            return lambda a, b: int(renameat2(_AT_FDCWD, a, _AT_FDCWD, b, _RENAME_EXCHANGE))
        number = _SYS_RENAMEAT2.get(platform.machine())
        if number is None:
            return None
        syscall = libc.syscall
        syscall.restype = ctypes.c_long
        return lambda a, b: int(
            syscall(
                ctypes.c_long(number),
                ctypes.c_int(_AT_FDCWD),
                ctypes.c_char_p(a),
                ctypes.c_int(_AT_FDCWD),
                ctypes.c_char_p(b),
                ctypes.c_uint(_RENAME_EXCHANGE),
            )
        )
    if sys.platform == "darwin":
        libc = ctypes.CDLL(None, use_errno=True)
        renamex_np = getattr(libc, "renamex_np", None)
        if renamex_np is None:
            return None
        renamex_np.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_uint]
        renamex_np.restype = ctypes.c_int
        return lambda a, b: int(renamex_np(a, b, _RENAME_SWAP))
    return None
