"""The journal of a run: one JSON line per finished scenario example, appended as the run goes.

Every report of a run (``results.json``, ``junit.xml``, ``cucumber.json``, ``index.html``) is rendered
from a :class:`~s1sr.report.results.RunRecord` rebuilt from one or more journals, so a run spread over
pytest-xdist workers, or over CI jobs that each run a shard, has one record; and a run that is killed
keeps every scenario it finished.

The file
--------
JSON Lines (UTF-8, one object a line). All the processes of one run (the run itself, or the pytest-xdist
controller and its workers) append to the same file, each line whole: a process writes a line in one
``write`` holding an exclusive ``flock`` on the file, and starts with a newline when the file does not end
with one (the torn last line of a process killed while writing it, which readers skip). Every line is
written through to the operating system as it is made, so SIGKILL loses at most the scenario in flight;
the file is flushed to the disk (``fsync``) at most a second after a line, and when a process ends.

Every line has ``kind``, ``run`` (a token shared by the processes of one run) and ``worker`` (``main``
for a run without workers, ``controller`` and ``gw0``, ``gw1``... under pytest-xdist). The kinds:

- ``header``, one per process, before its other lines; the first line of the file is one (it begins
  ``{"journal":"s1sr-journal"``). ``journal``, ``format`` (1), ``pid``, ``host``, ``started`` (when the process
  began, ISO 8601 UTC to the microsecond),
  and the run's identity: ``s1sr`` (the harness's version), ``s1sr_version``, ``catalogue_sha256`` (SHA-256
  of the version's catalogue and the device models), ``features_sha256`` (SHA-256 over the feature files'
  relative names and bytes), ``dmc`` (list), ``adapter``, ``s1sp``, ``xsd`` (path or null), ``shard``
  (``"K/N"`` or null).
- ``selected``, one per process that collects: ``scenarios``, every selected scenario example in the
  run's order: ``id``, ``name``, ``feature``, ``feature_file``, ``clauses``, ``srvs``, ``dmc``,
  ``example``, ``nodeid``, ``position`` (its place in the run before ``--shard`` split it).
- ``scenario``, one per finished scenario example: the scenario as ``results.json`` has it (``id``,
  ``name``, ``example``, ``feature``, ``feature_file``, ``clauses``, ``srvs``, ``dmc``, ``outcome``,
  ``duration_s``, ``reason``, ``evidence``, ``steps``, ``mismatch``, ``rig``), and ``nodeid``, ``position``,
  ``finished`` (ISO 8601 UTC, to the microsecond) and ``schema``: the requests and responses this
  scenario validated (``requests_validated``, ``responses_validated``, ``invalid``), which add up to the run's.
- ``crashed``, by the controller: ``nodeid`` and ``reason`` of a scenario whose worker died under it
  (it is an ``error``).
- ``record``, at most one per run, by the process that publishes (``main`` or ``controller``): what the record
  carries besides its scenarios, each null when absent: ``signing`` (the certificate fingerprints, as
  ``results.json``'s ``tool.signing``), ``archive`` (``id`` and ``name`` of the run's folder in the archive) and
  ``waivers`` (the deviation register in force: ``source``, ``sha256``, ``waivers``; the record rebuilt from
  the journal judges it again, so ``s1sr report`` applies the register the run had unless given another).
- ``end``, one per process that ends: ``finished``, ``interrupted`` (Ctrl-C, SIGTERM), ``exitstatus``.

A record rebuilt from a journal leaves each scenario's ``evidence`` in the file and reads it again when a
report iterates it (:mod:`s1sr.report.evidence`): the evidence is nearly all of a record.

A scenario selected but without a ``scenario`` line is ``not run``; a run whose ``main`` or ``controller``
has no ``end`` line was killed, and its record says ``interrupted``. A ``scenario`` line holds what the run
found (``passed``, ``failed``, ``error``, ``not applicable``, ``not run``), never ``waived``: waiving is a
judgement made when the record is rendered.

Merging
-------
:func:`merge_journals` rebuilds one record from the runs in any number of journal files. It refuses,
in one line, journals of another harness version, S1SR version, catalogue, feature set or S1SP unless
``allow_mixed``, and always a scenario id that two runs both selected.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import socket
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from s1sr import __version__
from s1sr.bundle import features_dir
from s1sr.errors import ConfigError, InputError
from s1sr.report.evidence import JournaledEvidence, JournalSource
from s1sr.report.provenance import source_state
from s1sr.report.results import OUTCOMES, RunRecord, ScenarioResult, scenario_from_dict
from s1sr.report.waivers import WaiverRegister, merge_registers, register_from_dict

#: The first bytes of every journal.
MAGIC = b'{"journal":"s1sr-journal"'
#: The journal format this harness writes and reads.
FORMAT = 1
#: The ``worker`` of a run without workers, and of the pytest-xdist controller.
MAIN, CONTROLLER = "main", "controller"
#: Longest line read (a scenario's evidence may hold DUIS firmware images of 10 MB each).
MAX_LINE_BYTES = 256 * 1024 * 1024
#: Most seconds between a line and its flush to the disk.
FSYNC_EVERY_S = 1.0
#: Identity fields that journals of one record share (``allow_mixed`` lifts the rule).
MUST_MATCH = ("s1sr", "s1sr_version", "catalogue_sha256", "features_sha256", "s1sp")
_SCHEMA_COUNTS = ("requests_validated", "responses_validated", "invalid")


@dataclass(frozen=True)
class JournalTarget:
    """Where the processes of one run write its journal, and the token their lines carry."""

    path: Path
    run: str
    #: Made for a run on workers without a report folder or ``--journal``: removed once the record is rebuilt.
    temporary: bool = False


@dataclass(frozen=True)
class RunIdentity:
    """What a run tested, as its journal's headers say; journals merge when these agree."""

    s1sr_version: str
    catalogue_sha256: str
    features_sha256: str
    dmc: tuple[str, ...]
    adapter: str
    s1sp: str
    xsd: str | None
    shard: str | None = None
    s1sr: str = __version__

    def as_dict(self) -> dict[str, Any]:
        """The identity fields of a header."""
        return {
            "s1sr": self.s1sr,
            "s1sr_version": self.s1sr_version,
            "catalogue_sha256": self.catalogue_sha256,
            "features_sha256": self.features_sha256,
            "dmc": list(self.dmc),
            "adapter": self.adapter,
            "s1sp": self.s1sp,
            "xsd": self.xsd,
            "shard": self.shard,
        }


def catalogue_digest(version: str) -> str:
    """SHA-256 of the catalogue data a run of ``version`` reads: its clauses, device models, outcome classes,
    SRV rules and the modification packs the spec (``4.3+MP312``) names.

    Read from where the run reads them (a test catalogue folder, when one is set), so two runs on
    different catalogues never merge as one.
    """
    from s1sr.catalogue import data_file
    from s1sr.catalogue.modifications import FOLDER, split_spec

    base, packs = split_spec(version)
    digest = hashlib.sha256()
    names = [f"s1sr-{base}.toml", "device-models.toml", "outcomes.toml", "srvs.toml"]
    for name in [*names, *(f"{FOLDER}/{pack}.toml" for pack in packs)]:
        content = data_file(name).read_bytes()
        digest.update(f"{name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


def features_digest(folders: Iterable[Path]) -> str:
    """SHA-256 over the ``.feature`` files of ``folders``: each file's name relative to its folder, and its bytes.

    The same checkout gives the same digest on any machine, wherever it lies.
    """
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*.feature"), key=lambda p: p.relative_to(folder).as_posix()):
            content = path.read_bytes()
            digest.update(f"{path.relative_to(folder).as_posix()}\0{len(content)}\0".encode())
            digest.update(content)
        digest.update(b"\0folder\0")
    return digest.hexdigest()


def now() -> str:
    """The time, ISO 8601 UTC to the microsecond (a journal's lines are ordered by it across processes)."""
    return datetime.now(UTC).isoformat()


# --- the file a run writes ---------------------------------------------------------------------


def journal_beside(folder: Path) -> Path:
    """The journal of a run into report folder ``folder``: ``.NAME.s1sr-journal.jsonl`` beside it.

    Beside, not inside: the folder is replaced as one set when the run ends, and the journal is what
    rebuilds it after a run that was killed. The folder's lock covers it: one run writes it at a time.
    """
    name = folder.name
    if len(name) > 64:  # keep the name within NAME_MAX, as the folder's lock does
        name = f"{name[:40]}-{hashlib.sha256(os.fsencode(name)).hexdigest()[:16]}"
    return folder.parent / f".{name}.s1sr-journal.jsonl"


def start_journal(path: Path | None, report_folder: Path | None, option: str = "--journal") -> JournalTarget:
    """Create, or empty, the journal a run writes; :class:`ConfigError` (one line) when it cannot be.

    ``path`` when given; else beside ``report_folder`` (claimed already); else a temporary file.
    A file that holds something other than an s1sr journal is never overwritten.
    """
    run = secrets.token_hex(8)
    if path is not None:
        target, where = Path(os.path.abspath(path)), f"{option} {path}"
    elif report_folder is not None:
        target = journal_beside(report_folder)
        where = str(target)
    else:
        try:
            handle, name = tempfile.mkstemp(prefix="s1sr-journal-", suffix=".jsonl")
        except OSError as exc:
            raise ConfigError(f"cannot make a temporary journal ({exc.strerror})", tempfile.gettempdir()) from None
        os.close(handle)
        return JournalTarget(Path(name), run, temporary=True)
    if target.is_dir():
        raise ConfigError("is a folder, not a journal file", where, "name a file, such as run.jsonl")
    try:
        if target.is_file() and target.stat().st_size and not _starts_as_journal(target):
            raise ConfigError("holds something that is not an s1sr journal", where, "choose a new file or move it")
        target.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644))
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(f"cannot write the journal here ({reason})", where, "choose a writable place") from None
    return JournalTarget(target, run)


def _starts_as_journal(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(MAGIC)) == MAGIC


class JournalWriter:
    """One process's lines of a run's journal, each appended whole (see the module docstring).

    A write that fails (a full disk) is kept as :attr:`error`, one line, and the lines after it are
    dropped: the scenarios they would have recorded are then ``not run`` in the record, never invented.
    """

    def __init__(self, target: JournalTarget, worker: str) -> None:
        self.target = target
        self.worker = worker
        self.error = ""
        self._last_sync = time.monotonic()
        self._source: JournalSource | None = None
        self._handle: int | None = os.open(target.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)

    def header(self, identity: RunIdentity, started: str) -> None:
        """The process's first line: who it is and what the run tests."""
        line = {"journal": "s1sr-journal", "format": FORMAT, "kind": "header", "run": self.target.run}
        line |= {"worker": self.worker, "pid": os.getpid(), "host": socket.gethostname(), "started": started}
        self._write(line | identity.as_dict() | {"source": source_state(features_dir())})

    def append(self, kind: str, fields: dict[str, Any]) -> tuple[int, int] | None:
        """A line of ``kind`` with ``fields``; where it is in the file (offset, length), None when not written."""
        return self._write({"kind": kind, "run": self.target.run, "worker": self.worker, **fields})

    def evidence(self, where: tuple[int, int], scenario: str, count: int) -> JournaledEvidence:
        """The evidence of the scenario line this writer wrote at ``where``, read back from the file when needed."""
        if self._source is None:
            self._source = JournalSource(self.target.path)
        return JournaledEvidence(self._source, where[0], where[1], scenario, count)

    def close(self) -> None:
        """Flush the lines to the disk and close the file. Idempotent."""
        if self._handle is not None:
            with contextlib.suppress(OSError):
                os.fsync(self._handle)
            os.close(self._handle)
            self._handle = None

    def _write(self, line: dict[str, Any]) -> tuple[int, int] | None:
        if self._handle is None or self.error:
            return None
        data = json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
        where = (0, len(data))
        handle = self._handle
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                size = os.fstat(handle).st_size
                where = (size, len(data))  # O_APPEND, under the lock: the line starts where the file ends
                if size and os.pread(handle, 1, size - 1) != b"\n":
                    data = b"\n" + data  # close a torn line, so that this one stands alone
                    where = (size + 1, len(data) - 1)
                view = memoryview(data)
                while view:  # os.write may write less than asked
                    view = view[os.write(handle, view) :]
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
            if time.monotonic() - self._last_sync >= FSYNC_EVERY_S:
                os.fsync(handle)
                self._last_sync = time.monotonic()
        except OSError as exc:
            self.error = f"cannot write the journal {self.target.path} ({exc.strerror or exc})"
            return None
        return where


# --- reading -----------------------------------------------------------------------------------


@dataclass
class JournalFile:
    """The lines of one journal file, parsed; ``skipped`` counts torn lines (a process killed mid-write)."""

    path: Path
    lines: list[tuple[int, dict[str, Any]]]
    skipped: int = 0


def read_journal(path: Path, run: str | None = None) -> JournalFile:
    """Read a journal (only run ``run``'s lines when given); :class:`InputError` for a file that is not one.

    A scenario line's ``evidence`` is left in the file: :class:`~s1sr.report.evidence.JournaledEvidence`
    reads it again when a report iterates it (the file stays open for that, even if it is removed).
    """
    where = str(path)
    lines: list[tuple[int, dict[str, Any]]] = []
    skipped = 0
    try:
        with path.open("rb") as handle:
            if handle.read(len(MAGIC)) != MAGIC:
                raise InputError("is not an s1sr journal (it does not begin with a journal header)", where)
            handle.seek(0)
            source = JournalSource(path)
            number = 0
            while True:
                offset = handle.tell()
                raw = handle.readline(MAX_LINE_BYTES + 1)
                if not raw:
                    break
                number += 1
                if len(raw) > MAX_LINE_BYTES:
                    raise InputError(f"line {number} is longer than {MAX_LINE_BYTES // 2**20} MiB", where)
                if not raw.strip():
                    continue
                try:
                    line = json.loads(raw)
                except ValueError:  # a line cut short by a process killed while writing it
                    skipped += 1
                    continue
                _check_line(line, f"{where}:{number}")
                if run is None or line["run"] == run:
                    if line["kind"] == "scenario":
                        count = len(line["evidence"])
                        line["evidence"] = JournaledEvidence(source, offset, len(raw), line["id"], count)
                    lines.append((number, line))
    except OSError as exc:
        raise InputError(f"cannot read the journal ({exc.strerror or exc})", where) from None
    return JournalFile(path, lines, skipped)


_HEADER_FIELDS: dict[str, tuple[type, ...]] = {
    "format": (int,),
    "started": (str,),
    "s1sr": (str,),
    "s1sr_version": (str,),
    "catalogue_sha256": (str,),
    "features_sha256": (str,),
    "dmc": (list,),
    "adapter": (str,),
    "s1sp": (str,),
    "xsd": (str, type(None)),
    "shard": (str, type(None)),
}
_SCENARIO_FIELDS: dict[str, tuple[type, ...]] = {
    "id": (str,),
    "name": (str,),
    "feature": (str,),
    "feature_file": (str,),
    "clauses": (list,),
    "srvs": (list,),
    "dmc": (str,),
    "outcome": (str,),
}


def _check_line(line: Any, where: str) -> None:
    """The fields a reader relies on, with their types; :class:`InputError` naming the line otherwise."""
    if not isinstance(line, dict):
        raise InputError("is not a journal line (not a JSON object)", where)
    _require(line, {"kind": (str,), "run": (str,), "worker": (str,)}, where)
    kind = line["kind"]
    if kind == "header":
        _require(line, _HEADER_FIELDS, where)
        if line["format"] > FORMAT:
            raise InputError(f"is journal format {line['format']}, newer than this s1sr reads", where, "upgrade s1sr")
    elif kind == "selected":
        _require(line, {"scenarios": (list,)}, where)
        for entry in line["scenarios"]:
            _require(entry, {k: v for k, v in _SCENARIO_FIELDS.items() if k != "outcome"}, where)
            _optional(entry, {"position": (int,)}, where)
    elif kind == "scenario":
        _require(line, _SCENARIO_FIELDS, where)
        _optional(line, {"position": (int,), "schema": (dict,), "finished": (str,), "evidence": (list,)}, where)
        line.setdefault("evidence", [])
        if line["outcome"] not in OUTCOMES:
            raise InputError(f"scenario {line['id']} has outcome '{line['outcome']}', not one of {OUTCOMES}", where)
        _optional(line.get("schema", {}), dict.fromkeys(_SCHEMA_COUNTS, (int,)), where)
    elif kind == "crashed":
        _require(line, {"nodeid": (str,), "reason": (str,)}, where)
    elif kind == "record":
        _optional(line, dict.fromkeys(("signing", "archive", "waivers"), (dict, type(None))), where)
        if line.get("waivers") is not None:
            register_from_dict(line["waivers"], where)
    elif kind == "end":
        _optional(line, {"finished": (str,), "interrupted": (bool,)}, where)
    for key in ("started", "finished"):
        if key in line and instant(line[key]) is None:
            raise InputError(f"is not a journal line ('{key}' is not an ISO 8601 time with its zone)", where)


def _require(line: Any, fields: dict[str, tuple[type, ...]], where: str) -> None:
    if not isinstance(line, dict):
        raise InputError("is not a journal line (an entry is not a JSON object)", where)
    for key, types in fields.items():
        if not isinstance(line.get(key), types) or (types == (int,) and isinstance(line.get(key), bool)):
            raise InputError(f"is not a journal line ('{key}' is missing or not {types[0].__name__})", where)


def _optional(line: dict[str, Any], fields: dict[str, tuple[type, ...]], where: str) -> None:
    _require(line, {key: types for key, types in fields.items() if key in line}, where)


def instant(stamp: Any) -> datetime | None:
    """An ISO 8601 time with its zone, or None for anything else."""
    try:
        moment = datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


# --- merging -----------------------------------------------------------------------------------


@dataclass
class _Run:
    """The lines of one run (one token), from however many files and processes."""

    token: str
    headers: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    selected: dict[str, dict[str, Any]] = field(default_factory=dict)
    finished: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    crashed: dict[str, str] = field(default_factory=dict)
    ends: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Its ``record`` line: signing, archive, waivers (empty when it wrote none).
    facts: dict[str, Any] = field(default_factory=dict)
    #: The latest time a line of the run gives (its end, or its last scenario's).
    last_seen: datetime | None = None

    def seen(self, stamp: Any) -> None:
        """Keep ``stamp`` when it is later than what the run's lines gave so far."""
        moment = instant(stamp)
        if moment is not None and (self.last_seen is None or moment > self.last_seen):
            self.last_seen = moment

    def interrupted(self) -> bool:
        """Stopped before its end: its main process (or controller) wrote no ``end``, or ended interrupted."""
        mains = [e for worker, e in self.ends.items() if worker in (MAIN, CONTROLLER)]
        return not mains or any(bool(e.get("interrupted")) for e in mains)


@dataclass
class MergedJournals:
    """One record rebuilt from journals, the catalogue version to render it with, and what a reader should know."""

    record: RunRecord
    catalogue_version: str
    #: The first journal's catalogue digest (the one ``catalogue_version`` is compared with).
    catalogue_sha256: str
    warnings: list[str]


def merge_journals(files: list[JournalFile], *, allow_mixed: bool = False) -> MergedJournals:
    """One record from the runs in ``files``; :class:`InputError` (one line) for journals that do not merge."""
    runs: dict[str, _Run] = {}
    warnings = [
        f"{f.path}: {f.skipped} incomplete line(s) skipped (a process was killed while writing)"
        for f in files
        if f.skipped
    ]
    for journal in files:
        for number, line in journal.lines:
            run = runs.setdefault(line["run"], _Run(line["run"]))
            _take(run, line, f"{journal.path}:{number}")
    if not any(run.headers for run in runs.values()):
        names = ", ".join(str(f.path) for f in files)
        raise InputError("holds no run (no journal header)", names, "give the journal files of a run")
    _check_identities(runs, allow_mixed)
    warnings += _missing_shards(runs)
    record, version, digest = _record(runs)
    return MergedJournals(record, version, digest, warnings)


def _missing_shards(runs: dict[str, _Run]) -> list[str]:
    """A warning for each set of shards (``K/N`` of one N) that lacks a part: its scenarios are absent."""
    parts: dict[int, set[int]] = {}
    for run in runs.values():
        for _, header in run.headers[:1]:
            part, _, total = str(header["shard"] or "").partition("/")
            if part.isdigit() and total.isdigit():
                parts.setdefault(int(total), set()).add(int(part))
    return [
        f"the journals hold part(s) {', '.join(map(str, sorted(have)))} of {total} of a sharded run: the scenarios "
        f"of part(s) {', '.join(f'{k}/{total}' for k in sorted(set(range(1, total + 1)) - have))} are not in the record"
        for total, have in sorted(parts.items())
        if len(have) < total
    ]


def _take(run: _Run, line: dict[str, Any], where: str) -> None:
    kind, worker = line["kind"], line["worker"]
    if kind == "header":
        run.headers.append((where, line))
    elif kind == "selected":
        for entry in line["scenarios"]:
            run.selected.setdefault(entry["id"], entry)
    elif kind == "scenario":
        if line["id"] in run.finished:
            first = run.finished[line["id"]][0]
            raise InputError(f"scenario {line['id']} finished twice (first at {first})", where, "merge each run once")
        run.finished[line["id"]] = (where, line)
        run.seen(line.get("finished"))
    elif kind == "crashed":
        run.crashed[line["nodeid"]] = line["reason"]
    elif kind == "record":
        run.facts = line
    elif kind == "end":
        run.ends[worker] = line
        run.seen(line.get("finished"))


def _check_identities(runs: dict[str, _Run], allow_mixed: bool) -> None:
    """Every header agrees with the first on :data:`MUST_MATCH` (unless mixed); no scenario id is in two runs."""
    first_where, first = next(h for run in runs.values() for h in run.headers)
    for run in runs.values():
        for where, header in run.headers:
            for key in MUST_MATCH:
                if header[key] == first[key]:
                    continue
                same_run = header["run"] == first["run"]
                if allow_mixed and not same_run:
                    continue
                what = key.replace("_sha256", "").replace("_", " ")
                raise InputError(
                    f"its {what} ({_short(header[key])}) is not the one of {first_where} ({_short(first[key])})",
                    where,
                    "merge journals of one harness, S1SR version, catalogue, feature set and S1SP"
                    + ("" if same_run else ", or pass --allow-mixed"),
                )
    owner: dict[str, str] = {}
    for run in runs.values():
        for scenario_id in [*run.selected, *(i for i in run.finished if i not in run.selected)]:
            if scenario_id in owner and owner[scenario_id] != run.token:
                where = _where_of(run)
                other = _where_of(runs[owner[scenario_id]])
                raise InputError(
                    f"scenario {scenario_id} is in two runs ({other} and {where})",
                    where,
                    "merge each scenario's run once: shards of one run, or runs of different DMCs",
                )
            owner[scenario_id] = run.token


def _where_of(run: _Run) -> str:
    return run.headers[0][0].rpartition(":")[0] if run.headers else f"run {run.token}"


def _short(value: Any) -> str:
    text = str(value)
    return f"{text[:12]}..." if len(text) == 64 else text


def _distinct(values: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def _record(runs: dict[str, _Run]) -> tuple[RunRecord, str, str]:
    """The merged record, and the S1SR version (and its catalogue's digest) whose catalogue renders it."""
    headers = [h for run in runs.values() for _, h in run.headers]
    versions = _distinct(h["s1sr_version"] for h in headers)
    xsds = _distinct(h["xsd"] for h in headers if h["xsd"] is not None)
    record = RunRecord(
        ", ".join(versions),
        _distinct(str(dmc) for h in headers for dmc in h["dmc"]),
        started=_in_seconds(min(_moment(h["started"]) for h in headers)),
        xsd="; ".join(xsds) if xsds else None,
        adapter=", ".join(_distinct(h["adapter"] for h in headers)),
        s1sp=", ".join(_distinct(h["s1sp"] for h in headers)),
        interrupted=any(run.interrupted() for run in runs.values()),
        tool={
            "s1sr": ", ".join(_distinct(str(h.get("s1sr", "?")) for h in headers)),
            "hosts": _distinct(str(h.get("host", "?")) for h in headers),
            "source": headers[0].get("source"),
            "features_sha256": headers[0].get("features_sha256"),
            "catalogue_sha256": headers[0].get("catalogue_sha256"),
        },
    )
    ordered: list[tuple[int, int, ScenarioResult]] = []
    for index, run in enumerate(runs.values()):
        ordered += ((position, index, scenario) for position, scenario in _scenarios(run))
        for _, line in run.finished.values():
            counts = line.get("schema") or {}
            record.requests_validated += int(counts.get("requests_validated", 0))
            record.responses_validated += int(counts.get("responses_validated", 0))
            record.invalid += int(counts.get("invalid", 0))
    record.scenarios = [scenario for _, _, scenario in sorted(ordered, key=lambda entry: entry[:2])]
    ends = [run.last_seen for run in runs.values() if run.last_seen is not None]
    record.finished = _in_seconds(max(ends)) if ends else record.started
    _take_facts(record, [run.facts for run in runs.values() if run.facts])
    return record, versions[0], str(headers[0]["catalogue_sha256"])


def record_facts(record: RunRecord) -> dict[str, Any]:
    """The fields of a ``record`` line: what ``record`` carries besides its scenarios, for the record rebuilt."""
    register = record.waiver_register
    return {
        "signing": record.tool.get("signing"),
        "archive": record.archive,
        "waivers": register.as_dict() if register is not None else None,
    }


def _take_facts(record: RunRecord, facts: list[dict[str, Any]]) -> None:
    """Put the runs' ``record`` lines on the merged record: one run's as they are; several runs' where they agree.

    The registers of several runs (shards) are merged into one, so a waiver unused in one shard but
    applied in another is applied in the record.
    """
    signing = _distinct(json.dumps(f["signing"], sort_keys=True) for f in facts if f.get("signing") is not None)
    if len(signing) == 1:
        record.tool["signing"] = json.loads(signing[0])
    archives = _distinct(json.dumps(f["archive"], sort_keys=True) for f in facts if f.get("archive") is not None)
    if len(archives) == 1 and len(facts) == 1:
        record.archive = json.loads(archives[0])
    registers: list[WaiverRegister] = [
        register_from_dict(f["waivers"], "journal") for f in facts if f.get("waivers") is not None
    ]
    record.use_waivers(merge_registers(registers))


def _scenarios(run: _Run) -> Iterable[tuple[int, ScenarioResult]]:
    """Each scenario of ``run`` with its position: as it finished, as crashed (error), else not run."""
    for scenario_id in [*run.selected, *(i for i in run.finished if i not in run.selected)]:
        finished = run.finished.get(scenario_id)
        entry = finished[1] if finished is not None else run.selected[scenario_id]
        position = int(run.selected.get(scenario_id, entry).get("position", len(run.selected)))
        scenario = scenario_from_dict(entry)
        if finished is None:
            crash = run.crashed.get(str(entry.get("nodeid", "")))
            if crash is not None:
                scenario.outcome, scenario.reason = "error", crash
            elif run.interrupted():
                scenario.reason = "the run stopped before this scenario finished (the journal has no entry for it)"
        yield position, scenario


def _moment(stamp: str) -> datetime:
    moment = instant(stamp)
    assert moment is not None  # checked as the line was read
    return moment


def _in_seconds(moment: datetime) -> str:
    """A time as ``results.json`` gives times: UTC, to the second."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()
