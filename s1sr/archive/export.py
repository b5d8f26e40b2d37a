"""``s1sr export`` and ``s1sr verify-export``: a run's folder as one zip an auditor keeps, and the check of one.

The zip holds one folder, the run's (``20261126T193512Z-3f9c2a/``), its ``manifest.json`` first and then
every other file by name; every member is deflated with the run's start time as its time and mode 0644, so
the same run always exports to the same bytes. Exporting checks the run's folder against its manifest
first: a folder changed since the run is not exported.

Reading a zip is bounded before anything is decompressed: the central directory's size and member count
are read from its end record (so a zip that claims millions of members is refused without listing them),
then every member must be a plain file (no link, no folder but the run's, not encrypted, stored or
deflated) named ``RUN/NAME`` (no absolute path, no ``..``), of a declared size within the limits;
contents are hashed in chunks as they are decompressed, never held whole, and never written anywhere.
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from s1sr.archive.manifest import MANIFEST, MAX_MANIFEST_BYTES, parse_manifest, plain_name, run_files
from s1sr.archive.store import ArchivedRun
from s1sr.errors import InputError
from s1sr.report.files import FILE_MODE, fsync_folder

#: Most members an export may have (a run's folder holds six files).
MAX_MEMBERS = 1000
#: Largest central directory read (a thousand members' entries take well under this).
MAX_CENTRAL_DIRECTORY = 4 * 2**20
#: Largest member, decompressed (a journal with firmware images in its evidence can be large).
MAX_MEMBER_BYTES = 4 * 2**30
#: Largest sum of the members, decompressed: what verifying one export may read at most.
MAX_TOTAL_BYTES = 8 * 2**30
_CHUNK = 2**20
_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"


@dataclass(frozen=True)
class Difference:
    """A file that does not match the manifest: ``differs``, ``missing`` or ``extra``, and why."""

    kind: str
    name: str
    detail: str = ""

    def line(self) -> str:
        """``differs: results.json (...)``."""
        return f"{self.kind}: {self.name}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class Verification:
    """What checking an export found: the run's manifest, how many files were checked, what differs."""

    manifest: dict[str, Any]
    checked: int
    differences: list[Difference] = field(default_factory=list)


# --- the run's folder against its manifest -----------------------------------------------------------------------


def folder_differences(run: ArchivedRun) -> list[Difference]:
    """The files of a run's folder that do not match its manifest (changed, missing, added)."""
    listed: dict[str, Any] = run.manifest["files"]
    found = run_files(run.folder)
    differences = [_compare(name, listed[name], found.get(name)) for name in sorted(listed)]
    others = sorted(entry.name for entry in run.folder.iterdir() if entry.name not in listed and entry.name != MANIFEST)
    return [d for d in differences if d is not None] + [
        Difference("extra", name, "not in the manifest") for name in others
    ]


def _compare(name: str, listed: dict[str, Any], found: dict[str, Any] | None) -> Difference | None:
    if found is None:
        return Difference("missing", name, "the manifest lists it")
    if found["sha256"] != listed["sha256"] or found["bytes"] != listed["bytes"]:
        return Difference(
            "differs",
            name,
            f"SHA-256 {found['sha256'][:12]}..., {found['bytes']} bytes; "
            f"the manifest says {listed['sha256'][:12]}..., {listed['bytes']} bytes",
        )
    return None


# --- writing -------------------------------------------------------------------------------------------------------


def export_run(run: ArchivedRun, out: Path) -> list[str]:
    """Write ``run`` as one zip at ``out`` (atomically); the members' names, in order.

    :class:`InputError` (one line) for a folder that no longer matches its manifest (``folder_differences``
    says how), an ``out`` inside the run's folder, or an ``out`` that cannot be written.
    """
    where = f"--out {out}"
    target = Path(os.path.abspath(out))
    if run.folder.resolve() in target.parents:
        raise InputError("is inside the run's folder, which the export must not change", where, "write it elsewhere")
    folder = target.parent
    if not folder.is_dir():
        raise InputError("folder does not exist", str(folder), "create it or choose another --out")
    names = [MANIFEST, *sorted(run.manifest["files"])]
    stamp = _zip_time(str(run.manifest.get("started", "")))
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=folder)
    except OSError as exc:
        raise InputError(f"cannot write here ({exc.strerror or exc})", where) from None
    try:
        with os.fdopen(handle, "wb") as stream, zipfile.ZipFile(stream, "w") as archive:
            for name in names:
                _add(archive, run.folder / name, f"{run.name}/{name}", stamp)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, target)
        fsync_folder(folder)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise InputError(f"cannot write the export ({exc.strerror or exc})", where) from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return [f"{run.name}/{name}" for name in names]


def _add(archive: zipfile.ZipFile, source: Path, name: str, stamp: tuple[int, int, int, int, int, int]) -> None:
    """One member: deflated, at ``stamp``, mode 0644, streamed from ``source``."""
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3  # Unix, so that the mode below is read as one
    info.external_attr = (stat.S_IFREG | FILE_MODE) << 16
    info.file_size = source.stat().st_size
    with source.open("rb") as reader, archive.open(info, "w", force_zip64=info.file_size > 2**31) as writer:
        while chunk := reader.read(_CHUNK):
            writer.write(chunk)


def _zip_time(started: str) -> tuple[int, int, int, int, int, int]:
    """The members' time: the run's start (UTC), as a zip stores it (not before 1980, seconds even)."""
    try:
        moment = datetime.fromisoformat(started)
    except ValueError:
        return (1980, 1, 1, 0, 0, 0)
    if moment.year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second // 2 * 2)


# --- reading -------------------------------------------------------------------------------------------------------


def verify_export(path: Path) -> Verification:
    """Check every member of the export at ``path`` against its manifest.

    :class:`InputError` (one line) for a file that is not an s1sr run export, or that breaks a bound; the
    differences (a member changed, missing or added) are in the result.
    """
    where = str(path)
    if not path.is_file():
        raise InputError("is not a file", where, "give the .zip that s1sr export wrote")
    try:
        with path.open("rb") as handle:
            _check_directory(handle, where)
            try:
                archive = zipfile.ZipFile(handle)
            except (zipfile.BadZipFile, ValueError, EOFError) as exc:
                raise InputError(f"is not a zip file ({exc})", where) from None
            with archive:
                return _verify(archive, where)
    except OSError as exc:
        raise InputError(f"cannot read it ({exc.strerror or exc})", where) from None


def _check_directory(handle: IO[bytes], where: str) -> None:
    """Refuse, from the zip's end record alone, a zip whose central directory is too large or too full."""
    size = handle.seek(0, os.SEEK_END)
    tail_size = min(size, _EOCD_SIZE + 65535)
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < _EOCD_SIZE:
        raise InputError("is not a zip file (it has no end of central directory record)", where)
    _, _, _, _, entries, directory, offset, _ = struct.unpack("<4s4H2LH", tail[at : at + _EOCD_SIZE])
    if entries == 0xFFFF or 0xFFFFFFFF in (directory, offset):  # Zip64: the real numbers are in its own record
        locator = tail[at - 20 : at] if at >= 20 else b""
        if len(locator) != 20 or not locator.startswith(_ZIP64_LOCATOR):
            raise InputError("is not a zip file (a Zip64 end record without its locator)", where)
        (record_at,) = struct.unpack("<Q", locator[8:16])
        handle.seek(record_at)
        record = handle.read(56)
        if len(record) != 56 or not record.startswith(_ZIP64_EOCD):
            raise InputError("is not a zip file (its Zip64 end record is missing)", where)
        entries, directory = struct.unpack("<QQ", record[32:48])
    if entries > MAX_MEMBERS:
        raise InputError(f"has {entries} members, more than an s1sr export's {MAX_MEMBERS}", where)
    if directory > MAX_CENTRAL_DIRECTORY:
        raise InputError(f"has a central directory of {directory} bytes, more than an s1sr export's", where)
    handle.seek(0)


def _verify(archive: zipfile.ZipFile, where: str) -> Verification:
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise InputError(f"has {len(members)} members, more than an s1sr export's {MAX_MEMBERS}", where)
    top = _run_folder(members, where)
    files: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in members:
        if info.filename == f"{top}/":
            continue
        name = info.filename.removeprefix(f"{top}/")
        _check_member(info, name, where)
        if name in files:
            raise InputError(f"holds {info.filename} twice", where, "export the run again")
        files[name] = info
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise InputError(f"holds more than {MAX_TOTAL_BYTES // 2**30} GiB: more than an s1sr export", where)
    if MANIFEST not in files:
        raise InputError(f"holds no {top}/{MANIFEST}: not an s1sr run export", where, "give what s1sr export wrote")
    manifest = parse_manifest(_read_manifest(archive, files[MANIFEST], where), f"{where}:{top}/{MANIFEST}")
    listed: dict[str, Any] = manifest["files"]
    found: dict[str, dict[str, Any] | None] = {}
    differences: list[Difference] = []
    for name, info in sorted(files.items()):
        if name == MANIFEST:
            continue
        if name not in listed:
            differences.append(Difference("extra", name, "not in the manifest"))
            continue
        try:
            found[name] = _digest(archive, info)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            differences.append(Difference("differs", name, f"its bytes in the zip are damaged: {exc}"))
            continue
    for name in sorted(listed):
        if name in found or name not in files:
            difference = _compare(name, listed[name], found.get(name))
            if difference is not None:
                differences.append(difference)
    order = {kind: index for index, kind in enumerate(("differs", "missing", "extra"))}
    differences.sort(key=lambda d: (order[d.kind], d.name))
    return Verification(manifest, len(files) - 1, differences)


def _run_folder(members: list[zipfile.ZipInfo], where: str) -> str:
    """The one folder every member is in (the run's)."""
    for info in members:
        if not plain_name(info.filename.partition("/")[0]):  # an absolute path, .., a hidden folder
            raise InputError(f"holds '{info.filename}', which is not in a run's folder", where)
    tops = {info.filename.partition("/")[0] for info in members}
    if len(tops) != 1:
        shown = ", ".join(sorted(tops)[:3])
        raise InputError(f"is not one run's folder (it holds {shown})", where, "give what s1sr export wrote")
    return tops.pop()


def _check_member(info: zipfile.ZipInfo, name: str, where: str) -> None:
    """A member must be a plain, unencrypted file of the run's folder, of a size within the bounds."""
    if not plain_name(name) or info.is_dir():
        raise InputError(f"holds '{info.filename}', which is not a file of the run's folder", where)
    mode = info.external_attr >> 16
    if info.create_system == 3 and stat.S_IFMT(mode) not in (0, stat.S_IFREG):
        kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a plain file"
        raise InputError(f"holds '{info.filename}', which is {kind}", where)
    if info.flag_bits & 0x1:
        raise InputError(f"holds '{info.filename}' encrypted; an s1sr export is not", where)
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise InputError(f"holds '{info.filename}' compressed by method {info.compress_type}, not deflate", where)
    if info.file_size > MAX_MEMBER_BYTES:
        raise InputError(f"holds '{info.filename}' of {info.file_size} bytes, more than an s1sr export's", where)


def _read_manifest(archive: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> bytes:
    if info.file_size > MAX_MANIFEST_BYTES:
        raise InputError(f"has a manifest of {info.file_size} bytes: not an s1sr run export", where)
    try:
        with archive.open(info) as member:
            return member.read(MAX_MANIFEST_BYTES + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise InputError(f"its manifest cannot be read ({exc})", where, "export the run again") from None


def _digest(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> dict[str, Any]:
    """SHA-256 and size of a member, decompressed in chunks, never past its declared size."""
    digest = hashlib.sha256()
    size = 0
    with archive.open(info) as member:
        while chunk := member.read(_CHUNK):
            size += len(chunk)
            if size > info.file_size:
                raise zipfile.BadZipFile("longer than its declared size")
            digest.update(chunk)
    return {"sha256": digest.hexdigest(), "bytes": size}
