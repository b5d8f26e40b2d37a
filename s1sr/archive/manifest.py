"""``manifest.json``: what an archived run tested, with what, where, when, its verdict, and a hash of every file.

Fields (stable: added to, never renamed):

- ``manifest`` (``"s1sr-run-manifest"``), ``format`` (1), ``id`` (six hex digits), ``name`` (the run's folder);
- ``rerun_of``: ``{"id", "name"}`` of the run this one re-ran (``s1sr run --rerun``), else null;
- ``started``, ``finished`` (ISO 8601 UTC), ``host``, ``command_line`` (the words of the command);
- ``tool``: ``s1sr`` (its version), ``python``, ``source`` (``commit``, ``dirty`` of s1sr's checkout, or null);
- what was tested: ``s1sr_version`` (an opaque string, such as ``4.3`` or ``4.3+MP312``), ``dmc`` (list),
  ``adapter``, ``adapter_options``, ``target`` (``in-process`` or ``duis``), ``s1sp`` (as the record names
  it), ``target_url`` (the DUIS endpoint, or null), ``xsd`` (the DUIS schema validated against, or null);
- ``signing``: ``source`` (where the S1SP's key came from), ``responses`` (per certificate that signs the
  SMETS1 Responses, or is trusted to over DUIS: ``sha256`` of its DER and ``subject``), ``user`` (the same
  for the User's certificate over DUIS, else null), ``note`` (why a fingerprint is absent, else null);
- the verdict: ``verdict``, ``verdict_reason``, ``exit_code``, ``interrupted``, ``summary`` (count per outcome);
- ``inputs``: ``features_sha256`` and ``catalogue_sha256`` (the run journal's digests), ``features`` and
  ``catalogue``: per folder read, ``folder``, ``source`` (``commit`` and ``dirty`` when the folder is in a
  git checkout, else null) and ``files`` (name within the folder -> SHA-256);
- ``waivers``: the deviation register's judgement, as ``results.json``'s ``waivers`` (null without one);
- ``settings``: what ``s1sr run --rerun`` runs again with (version, DMCs, adapter and its options or rig
  pool, S1SP, target, features, catalogue, schema, signing key, waivers; paths absolute);
- ``files``: every other file of the run's folder, name -> ``{"sha256", "bytes"}``.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from s1sr.errors import InputError
from s1sr.report.provenance import GIT_TIMEOUT_S

#: The manifest's file name in a run's folder.
MANIFEST = "manifest.json"
#: What the ``manifest`` field says.
KIND = "s1sr-run-manifest"
#: The manifest format this s1sr writes and reads.
FORMAT = 1
#: Largest manifest read (hashes of a few hundred files take kilobytes).
MAX_MANIFEST_BYTES = 16 * 2**20
_CHUNK = 2**20
_SHA256 = re.compile(r"[0-9a-f]{64}")


def sha256_of(path: Path) -> tuple[str, int]:
    """SHA-256 (hex) and size of a file, read in chunks (a journal may hold hundreds of megabytes)."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def run_files(folder: Path) -> dict[str, dict[str, Any]]:
    """Every file of a run's folder but the manifest: name -> ``{"sha256", "bytes"}``, by name."""
    files: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        if path.name != MANIFEST and path.is_file() and not path.is_symlink():
            digest, size = sha256_of(path)
            files[path.name] = {"sha256": digest, "bytes": size}
    return files


def folder_inputs(folder: Path, pattern: str) -> dict[str, Any]:
    """A folder the run read: its path, its git state, and the SHA-256 of each file matching ``pattern``."""
    files = {
        path.relative_to(folder).as_posix(): sha256_of(path)[0]
        for path in sorted(folder.rglob(pattern), key=lambda p: p.relative_to(folder).as_posix())
        if path.is_file() and "__pycache__" not in path.parts
    }
    return {"folder": str(folder), "source": folder_source(folder), "files": files}


@cache
def folder_source(folder: Path) -> dict[str, Any] | None:
    """``{"commit", "dirty"}`` of the git checkout holding ``folder`` (dirty: this folder only), or None.

    Not :func:`s1sr.report.provenance.source_state`: that judges s1sr's own checkout by its judging
    folders, and a user's feature folder or catalogue may be in a checkout of its own.
    """

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=GIT_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None or not commit.strip():
        return None
    status = git("status", "--porcelain", "--", ".")
    return {"commit": commit.strip(), "dirty": status is None or bool(status.strip())}


def certificate_fingerprint(blob: bytes) -> dict[str, str]:
    """``sha256`` (of the DER encoding) and ``subject`` of a PEM or DER certificate."""
    is_pem = blob.lstrip().startswith(b"-----")
    certificate = x509.load_pem_x509_certificate(blob) if is_pem else x509.load_der_x509_certificate(blob)
    der = certificate.public_bytes(Encoding.DER)
    return {"sha256": hashlib.sha256(der).hexdigest(), "subject": certificate.subject.rfc4514_string()}


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """The manifest as written: indented JSON, UTF-8, one newline at the end."""
    return json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"


def read_manifest(path: Path) -> dict[str, Any]:
    """The manifest at ``path``, checked; :class:`InputError` (one line) for one that is missing or malformed."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_MANIFEST_BYTES + 1)
    except FileNotFoundError:
        raise InputError("is not an archived run (it holds no manifest.json)", str(path.parent)) from None
    except OSError as exc:
        raise InputError(f"cannot read the manifest ({exc.strerror or exc})", str(path)) from None
    return parse_manifest(data, str(path))


def parse_manifest(data: bytes, where: str) -> dict[str, Any]:
    """A manifest from its bytes, with the fields a reader relies on checked; :class:`InputError` otherwise."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise InputError(f"is larger than {MAX_MANIFEST_BYTES // 2**20} MiB: not an s1sr run manifest", where)
    try:
        manifest = json.loads(data)
    except ValueError as exc:
        raise InputError(f"is not an s1sr run manifest (not JSON: {exc})", where) from None
    if not isinstance(manifest, dict) or manifest.get("manifest") != KIND:
        raise InputError(f'is not an s1sr run manifest (no "manifest": "{KIND}")', where)
    if not isinstance(manifest.get("format"), int) or manifest["format"] > FORMAT:
        found = manifest.get("format")
        raise InputError(f"is manifest format {found!r}, not one this s1sr reads", where, "upgrade s1sr")
    expected: dict[str, type] = {
        "id": str,
        "name": str,
        "started": str,
        "finished": str,
        "s1sr_version": str,
        "dmc": list,
        "verdict": str,
        "summary": dict,
        "files": dict,
    }
    for key, kind in expected.items():
        if not isinstance(manifest.get(key), kind):
            raise InputError(f"is not an s1sr run manifest ('{key}' is missing or not {kind.__name__})", where)
    for name, entry in manifest["files"].items():
        if not plain_name(name):
            raise InputError(f"names a file '{name}' that is not a plain file name", where)
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("sha256"), str)
            and _SHA256.fullmatch(entry["sha256"])
            and isinstance(entry.get("bytes"), int)
        ):
            raise InputError(f"has no SHA-256 and size for '{name}'", where)
    return manifest


def plain_name(name: str) -> bool:
    """A file name with no folder in it, not hidden, not ``..``: what a run's folder holds."""
    return bool(name) and not name.startswith(".") and "/" not in name and "\\" not in name and "\0" not in name


def tool_facts(source: Any) -> dict[str, Any]:
    """The ``tool`` field: s1sr's version, Python's, and the checkout state the journal recorded."""
    from s1sr import __version__

    return {"s1sr": __version__, "python": platform.python_version(), "source": source}


def absolute(path: str | os.PathLike[str] | None) -> str | None:
    """A path as the manifest keeps it: absolute (a re-run may start in another folder), or None."""
    return os.path.abspath(path) if path is not None else None
