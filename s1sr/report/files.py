"""File-system steps the reports are written with: durable writes, atomic renames, and the swap of two folders."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import platform
import select
import signal
import sys
import tempfile
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import BinaryIO, NoReturn, TypeAlias

from s1sr.errors import S1srError

#: Report files are for sharing, whatever the umask.
FILE_MODE = 0o644

#: What ``exchange_folders`` raises when this system or file system cannot swap two folders in one step.
EXCHANGE_UNSUPPORTED = frozenset({errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP})


#: What a file is made of: its bytes, or a function that writes them to a binary file (a report too big to hold).
Content: TypeAlias = bytes | Callable[[BinaryIO], None]


def write_new_file(path: Path, data: Content) -> None:
    """Create ``path`` (it must not exist), write all of ``data`` and flush it to the disk before returning."""
    handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    if isinstance(data, bytes):
        _write_all(handle, data)
        return
    try:
        os.fchmod(handle, FILE_MODE)
        stream = os.fdopen(handle, "wb", buffering=1024 * 1024, closefd=False)
        data(stream)
        stream.flush()
        os.fsync(handle)
    finally:
        os.close(handle)


def write_new_files(folder: Path, files: Mapping[str, Content], parallel: int = 1) -> None:
    """:func:`write_new_file` for each of ``files`` in ``folder``; up to ``parallel`` of them at once.

    With ``parallel`` above one (a run on workers has the cores), the files that are made by a function
    are each written by a process forked for it, so a gate's four reports take the time of the longest
    rather than of all four. A child that fails reports its error, as one line, to this process, which
    raises it here (an :class:`~s1sr.errors.S1srError` as it was, an ``OSError`` with its errno); the
    other children are stopped. Without ``os.fork`` (not POSIX), one at a time.
    """
    forked = {name: data for name, data in files.items() if not isinstance(data, bytes)}
    if parallel <= 1 or len(forked) <= 1 or not hasattr(os, "fork"):
        for name, data in files.items():
            write_new_file(folder / name, data)
        return
    for name, data in files.items():
        if isinstance(data, bytes):
            write_new_file(folder / name, data)
    _write_forked(folder, forked, parallel)


def _write_forked(folder: Path, files: Mapping[str, Content], parallel: int) -> None:
    waiting = list(files.items())
    running: dict[int, tuple[str, int]] = {}  # pid: (file name, read end of its error pipe)
    problem: BaseException | None = None
    try:
        while (waiting or running) and problem is None:
            while waiting and len(running) < parallel:
                name, data = waiting.pop(0)
                reader, writer = os.pipe()
                pid = os.fork()
                if pid == 0:  # the child: write one file, say how it went, never return into the caller
                    os.close(reader)
                    _child(folder / name, data, writer)
                os.close(writer)
                running[pid] = (name, reader)
            # A child's pipe ends when it does: wait on the pipes, then reap that child alone (os.wait would
            # reap any child of this process, such as a pytest-xdist worker, and take its exit status).
            ready, _, _ = select.select([reader for _, reader in running.values()], [], [])
            pid = next(pid for pid, (_, reader) in running.items() if reader == ready[0])
            name, reader = running.pop(pid)
            message = _read_all(reader)
            _, status = os.waitpid(pid, 0)
            problem = _child_problem(name, status, message)
    except BaseException as exc:  # Ctrl-C while waiting: the children go too
        problem = exc
    finally:
        for pid, (_, reader) in running.items():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.waitpid(pid, 0)
            os.close(reader)
    if problem is not None:
        raise problem


def _child(path: Path, data: Content, pipe: int) -> NoReturn:
    code, message = 0, b""
    try:
        write_new_file(path, data)
    except S1srError as exc:
        code, message = 1, b"S1srError\0" + "\0".join((exc.what, exc.where, exc.fix)).encode("utf-8", "replace")
    except OSError as exc:
        code, message = 1, f"OSError\0{exc.errno or 0}\0{exc.strerror or exc}".encode("utf-8", "replace")
    except BaseException as exc:  # a bug: said in one line, as the parent would have
        code, message = 1, f"error\0{type(exc).__name__}: {exc}".encode("utf-8", "replace")
    finally:
        with contextlib.suppress(OSError):
            os.write(pipe, message[:65536])
            os.close(pipe)
        os._exit(code)


def _read_all(handle: int) -> bytes:
    chunks = []
    try:
        while chunk := os.read(handle, 65536):
            chunks.append(chunk)
    finally:
        os.close(handle)
    return b"".join(chunks)


def _child_problem(name: str, status: int, message: bytes) -> BaseException | None:
    """What the child writing ``name`` ended in: None when it wrote it."""
    if os.waitstatus_to_exitcode(status) == 0:
        return None
    kind, _, rest = message.decode("utf-8", "replace").partition("\0")
    if kind == "S1srError":
        what, where, fix = [*rest.split("\0"), "", ""][:3]
        return S1srError(what, where, fix)
    if kind == "OSError":
        number, _, text = rest.partition("\0")
        return OSError(int(number) if number.isdigit() else 0, text)
    if kind == "error":
        return RuntimeError(f"writing {name}: {rest}")
    return OSError(errno.EIO, f"the process writing {name} ended with status {os.waitstatus_to_exitcode(status)}")


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
