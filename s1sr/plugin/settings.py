"""What a run tests, checked once before anything runs: version, DMCs, features, schema, keys, adapter, S1SP."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from s1sr.authoring import refuse_authoring_problems
from s1sr.bundle import features_dir
from s1sr.catalogue import Catalogue, default_dmcs, find_dmc, load_catalogue
from s1sr.devices.pool import RigPool, run_rigs
from s1sr.devices.registry import adapter_class
from s1sr.devices.simulated import SimulatedAdapter
from s1sr.duis.schema import DuisSchema, find_schema, load_schema
from s1sr.duis.signing import Credentials, generated_credentials, load_credentials
from s1sr.earlier_reads import EarlierReads
from s1sr.errors import ConfigError, S1srError
from s1sr.observability import DEVICE_STATE, EVERY_VIEW
from s1sr.report.journal import JournalTarget, RunIdentity, catalogue_digest, features_digest, start_journal
from s1sr.report.publish import ReportDirClaim, claim_report_dir
from s1sr.report.results import RunRecord
from s1sr.s1sp.cache import cache_periods
from s1sr.s1sp.registry import s1sp_class
from s1sr.session import OriginatorCounter, SchemaCounts

if TYPE_CHECKING:
    from s1sr.duis_http.target import DuisTarget

#: The S1SP under test runs in this process (``--s1sp``).
IN_PROCESS = "in-process"
#: The S1SP under test is reached over DUIS as a DCC User (``--duis-url``...).
DUIS = "duis"
TARGETS = (IN_PROCESS, DUIS)
#: The DUIS target's options: DuisTargetOptions field -> option name (after ``--`` or ``--s1sr-``).
DUIS_OPTIONS = {
    "url": "duis-url",
    "user_key": "user-key",
    "user_cert": "user-cert",
    "trust": "trust",
    "user_keys": "user-keys",
    "listen": "response-listen",
    "response_path": "response-path",
    "response_timeout_s": "response-timeout",
}
#: Over DUIS with a rig adapter the harness sees the devices' state (reset, snapshots), not the commands sent.
OBSERVES_OVER_DUIS = frozenset({DEVICE_STATE})


@dataclass
class RunSettings:
    """What this run tests: version, DMCs, feature folders, schema."""

    version: str
    catalogue: Catalogue
    dmcs: list[str]
    feature_dirs: list[Path]
    schema: DuisSchema | None
    schema_note: str
    timeout_s: float
    record: RunRecord
    credentials: Credentials
    adapter: str = "simulated"
    adapter_options: dict[str, str] = field(default_factory=dict)
    s1sp: str = "reference"
    s1sp_catalogue: Catalogue | None = None
    counts: SchemaCounts = field(default_factory=SchemaCounts)
    #: The report folder, claimed before anything runs (None: no reports asked for).
    report_claim: ReportDirClaim | None = None
    #: Why the reports could not be published at the end, when they could not (one line).
    report_error: str = ""
    #: This part of the run's scenarios, ``(K, N)``: part K of N (``--shard K/N``); None: all of them.
    shard: tuple[int, int] | None = None
    #: Where the run's processes write its journal (made before anything runs; None: no journal).
    journal: JournalTarget | None = None
    #: What the user should know about the run's record, one line each (a worker that could not journal).
    warnings: list[str] = field(default_factory=list)
    #: Where the S1SP under test runs: :data:`IN_PROCESS` or :data:`DUIS`.
    target: str = IN_PROCESS
    #: The configured DUIS target (its client runs for the whole run); None in process.
    target_class: type[DuisTarget] | None = None
    #: The User's originator counters, one rising source for every scenario of this process.
    counters: OriginatorCounter = field(default_factory=OriginatorCounter)
    #: What of the estate the harness sees ("device-commands", "device-state").
    observes: frozenset[str] = EVERY_VIEW
    #: Certificates that may sign the SMETS1 Responses (empty: ``credentials``' own).
    s1sp_certificates: tuple[bytes, ...] = ()
    #: The lab rigs each scenario leases one of (``--pool``, or ``--device-url`` repeated); None: no pool.
    pool: RigPool | None = None
    #: Behind DUIS with a cache in force: the cached reads the run has sent (None in process, or no cache).
    earlier_reads: EarlierReads | None = None

    def start_target(self) -> None:
        """Start the DUIS target's client and response listener (nothing in process); ConfigError if it cannot."""
        if self.target_class is not None:
            self.target_class.start()

    def stop_target(self) -> None:
        """Stop the DUIS target's client and listener, if running."""
        if self.target_class is not None:
            self.target_class.shutdown()

    def identity(self) -> RunIdentity:
        """What this run tests, as its journal's headers say it."""
        return RunIdentity(
            s1sr_version=self.version,
            catalogue_sha256=catalogue_digest(self.version),
            features_sha256=features_digest(self.feature_dirs),
            dmc=tuple(self.dmcs),
            adapter=self.record.adapter,
            s1sp=self.record.s1sp,
            xsd=self.record.xsd,
            shard=f"{self.shard[0]}/{self.shard[1]}" if self.shard else None,
        )


#: The run settings, on the pytest config.
SETTINGS_KEY = pytest.StashKey[RunSettings]()
#: Settings of the runs being collected in this process (innermost last).
ACTIVE: list[RunSettings] = []


def active_feature_dirs() -> list[Path]:
    """The feature folders of the run being collected (the shipped ones outside a run)."""
    return ACTIVE[-1].feature_dirs if ACTIVE else [features_dir()]


def build_settings(
    *,
    version: str,
    dmcs: list[str],
    feature_dirs: list[Path],
    xsd: str | None,
    start: Path,
    signing_key: str | Path | None,
    signing_cert: str | Path | None,
    timeout_s: float,
    adapter: str,
    adapter_options: list[str],
    s1sp: str | None,
    s1sp_version: str | None,
    shard: str | None = None,
    shard_option: str = "--shard",
    check_feature_files: bool = True,
    target: str = IN_PROCESS,
    duis: Mapping[str, Any] | None = None,
    option_prefix: str = "--",
    pool: str | Path | None = None,
) -> RunSettings:
    """Check and resolve what a run needs; :class:`S1srError` (one line) for anything wrong.

    ``s1sr run`` calls this before pytest starts, and the plugin again inside pytest, so a
    plain ``pytest`` run is checked the same way. A pytest-xdist worker leaves the feature files'
    parse check (``check_feature_files``) to its controller, which made it moments before.
    ``s1sp`` None means not given (the reference S1SP in process). ``duis`` holds the DUIS
    target's options by :data:`DUIS_OPTIONS` field (None or absent: not given); an option
    of one target given with the other is refused, named as ``option_prefix`` + its name.
    ``pool`` is a pool file of lab rigs (:mod:`s1sr.devices.pool`); ``url=`` given more than
    once in ``adapter_options`` makes a pool too.
    """
    given = {name: value for name, value in (duis or {}).items() if value not in (None, "", (), [])}
    check_target(target, given, s1sp, s1sp_version, signing_key, signing_cert, adapter, option_prefix)
    check_timeout(timeout_s)
    part = parse_shard(shard, shard_option) if shard is not None else None
    catalogue = load_catalogue(version)
    # A pool's DMCs are the run's when none is named; each rig's URL is its own, not an adapter option.
    rigs = run_rigs(pool, adapter, adapter_options, dmcs, target, option_prefix)
    dmcs, adapter_options = rigs.dmcs, rigs.adapter_options
    dmcs = list(dict.fromkeys(dmcs)) or default_dmcs()
    for name in dmcs:
        find_dmc(name)
    # Absolute: pytest-bdd would read a relative folder from the suite module's folder, not the user's.
    dirs = [Path(os.path.abspath(d)) for d in feature_dirs] or [features_dir()]
    for folder in dirs:
        if not folder.is_dir():
            raise S1srError("feature folder does not exist", str(folder), "pass an existing folder to --features")
    if check_feature_files:
        refuse_authoring_problems(dirs)
    setting = find_schema(xsd, start)
    schema = None
    if setting.path is not None:
        schema = load_schema(setting.path)
        note = f"schema validation on: {setting.path} (from {setting.source})"
    else:
        note = "schema validation is off: pass --xsd PATH or set S1SR_DUIS_XSD to the DUIS schema to turn it on"
    record = RunRecord(version, dmcs, xsd=str(setting.path) if setting.path else None)
    if bool(signing_key) != bool(signing_cert):
        raise S1srError("give both a signing key and its certificate", "--signing-key/--signing-cert")
    if signing_key and signing_cert:
        credentials = load_credentials(Path(signing_key), Path(signing_cert))
    else:
        credentials = generated_credentials()
    options = with_run_timeout(adapter, parse_options(adapter_options), timeout_s)
    s1sp = s1sp or "reference"
    target_class = None
    if target == DUIS:
        from s1sr.duis_http.target import DuisTarget  # the transport only when asked for

        target_class = DuisTarget.configure(schema, **given)  # reads the key, certificates and trust now
        s1sp = target_class.label()
    else:
        s1sp_class(s1sp)
    record.adapter, record.s1sp = adapter, s1sp
    try:
        s1sp_catalogue = load_catalogue(s1sp_version) if s1sp_version else None
    except ConfigError as exc:  # name the option the user typed, not --s1sr-version
        raise ConfigError(exc.what, f"{option_prefix}s1sp-version", exc.fix) from None
    if s1sp_catalogue is not None and s1sp_version != version:
        record.s1sp = f"{s1sp} (configured for S1SR {s1sp_version})"
    settings = RunSettings(
        version,
        catalogue,
        dmcs,
        dirs,
        schema,
        note,
        timeout_s,
        record,
        credentials,
        adapter,
        options,
        s1sp,
        s1sp_catalogue,
        shard=part,
        target=target,
        pool=rigs.pool,
    )
    if rigs.pool is not None:  # the record's header names every rig of the run
        record.adapter = rigs.pool.describe(dmcs)
    if target_class is not None:
        settings.target_class = target_class
        settings.counters = OriginatorCounter.from_clock()  # above every counter of an earlier run's
        settings.observes = OBSERVES_OVER_DUIS
        settings.s1sp_certificates = target_class.certificates()
        periods = cache_periods(clause.parameters for clause in catalogue.clauses)
        settings.earlier_reads = EarlierReads(periods) if periods else None
    return settings


def check_target(
    target: str,
    duis: Mapping[str, Any],
    s1sp: str | None,
    s1sp_version: str | None,
    signing_key: str | Path | None,
    signing_cert: str | Path | None,
    adapter: str,
    prefix: str = "--",
) -> None:
    """Refuse an unknown target, and an option of one target given with the other (ConfigError naming it)."""
    if target not in TARGETS:
        raise ConfigError(
            f"'{target}' is not a target", f"{prefix}target", f"choose {IN_PROCESS} (the default) or {DUIS}"
        )
    if target == IN_PROCESS:
        for name in DUIS_OPTIONS:
            if name in duis:
                option = prefix + DUIS_OPTIONS[name]
                raise ConfigError(
                    f"only for {prefix}target {DUIS}", option, f"add {prefix}target {DUIS}, or leave {option} out"
                )
        return
    for option, value, why in (
        ("s1sp", s1sp, "the S1SP under test is the one behind the DUIS endpoint"),
        ("s1sp-version", s1sp_version, "the S1SP behind the DUIS endpoint applies its own rules"),
        ("signing-key", signing_key, "the S1SP behind the DUIS endpoint signs with its own key"),
        ("signing-cert", signing_cert, "the S1SP behind the DUIS endpoint signs with its own key"),
    ):
        if value:
            raise ConfigError(
                f"not for {prefix}target {DUIS}: {why}",
                prefix + option,
                f"leave it out (trust the endpoint's certificates with {prefix}trust)",
            )
    if issubclass(adapter_class(adapter), SimulatedAdapter):
        # The harness resets and reads the estate the served S1SP drives; a simulation of its own would
        # be another estate, so every scenario would start from the endpoint's leftovers.
        raise ConfigError(
            f"{prefix}target {DUIS} needs the rig the served S1SP drives, not an in-process simulation",
            f"{prefix}adapter {adapter}",
            f"give {prefix}adapter remote {prefix}device-url URL (e.g. s1sr serve-device, served with "
            "s1sr serve-s1sp --adapter remote --device-url URL)",
        )


def parse_shard(text: str, option: str = "--shard") -> tuple[int, int]:
    """``K/N`` as ``(K, N)``, with 1 <= K <= N; :class:`ConfigError` (one line) otherwise."""
    found = re.fullmatch(r"\s*(\d{1,6})\s*/\s*(\d{1,6})\s*", text)
    if found is None or not 1 <= int(found[1]) <= int(found[2]):
        raise ConfigError(
            f"'{text}' is not a shard: give K/N, part K of N, with 1 <= K <= N",
            option,
            f"for example {option} 1/2 in one job and {option} 2/2 in another",
        )
    return int(found[1]), int(found[2])


#: The longest a device command may be given (ten minutes: a lab device that takes longer is broken, not
#: slow; the remote wire protocol's own bound on ``timeout_s`` is the same).
MAX_TIMEOUT_S = 600.0


def check_timeout(timeout_s: float) -> None:
    """A command timeout must be a positive, finite number of seconds up to :data:`MAX_TIMEOUT_S`."""
    if not (math.isfinite(timeout_s) and 0 < timeout_s <= MAX_TIMEOUT_S):
        raise ConfigError(
            f"'{timeout_s:g}' is not a timeout: give a positive number of seconds up to {MAX_TIMEOUT_S:g}",
            "--timeout",
            "for example --timeout 30",
        )


def with_run_timeout(adapter: str, options: dict[str, str], timeout_s: float) -> dict[str, str]:
    """The adapter's options, with the run's ``--timeout`` under the option the adapter names for it.

    An adapter that talks to a rig (the remote one) bounds its own calls (reset, snapshot,
    devices) by it; the user's explicit option wins.
    """
    key = getattr(adapter_class(adapter), "run_timeout_option", None)
    if isinstance(key, str) and key not in options:
        return {**options, key: repr(timeout_s)}
    return options


def claim_reports(
    settings: RunSettings,
    folder: Path | None,
    option: str = "--report-dir",
    journal: Path | None = None,
    journal_option: str = "--journal",
    *,
    force: bool = False,
    force_option: str = "--force",
) -> None:
    """Claim ``folder`` for the reports, then make the run's journal; both before anything runs.

    The folder must be writable and not another run's; it is locked. The journal is ``journal``, else
    beside the folder; a run with neither keeps its record in memory (the plugin gives a run on
    pytest-xdist workers a temporary journal). The claim and the journal are kept on ``settings``; the
    caller releases the claim when the run ends.
    """
    if folder is not None:
        settings.report_claim = claim_report_dir(folder, option=option)
    try:
        if settings.report_claim is not None and not force:
            refuse_another_run(settings, settings.report_claim.folder, f"{option} {folder}", force_option)
        claimed = settings.report_claim.folder if settings.report_claim is not None else None
        if journal is not None or claimed is not None:
            settings.journal = start_journal(journal, claimed, journal_option)
    except BaseException:
        if settings.report_claim is not None:
            settings.report_claim.release()
            settings.report_claim = None
        raise


def parse_options(pairs: list[str]) -> dict[str, str]:
    """``KEY=VALUE`` strings as a dict; :class:`S1srError` for one without ``=``."""
    options: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise S1srError(f"'{pair}' is not KEY=VALUE", "--adapter-option")
        options[key.strip()] = value.strip()
    return options


def settings_of(config: pytest.Config) -> RunSettings:
    """The run settings held by ``config``."""
    return config.stash[SETTINGS_KEY]


def refuse_another_run(settings: RunSettings, folder: Path, where: str, force_option: str) -> None:
    """ConfigError when ``folder`` holds the reports of a run of other settings (the new set would replace them).

    Compared: S1SR version, DMCs, adapter, S1SP, and, when the old record names them, the digests of
    the features and the catalogue. The same settings again (a re-run after a fix) may replace it.
    """
    old = _recorded_run(folder / "results.json")
    if old is None:
        return
    recorded = old.get("tool")
    tool: dict[str, Any] = recorded if isinstance(recorded, dict) else {}
    identity = settings.identity()
    differs = [
        name
        for name, before, now in (
            ("S1SR version", old.get("s1sr_version"), settings.version),
            ("DMCs", sorted(map(str, old.get("dmc") or [])), sorted(settings.dmcs)),
            ("adapter", old.get("adapter"), settings.record.adapter),
            ("S1SP", old.get("s1sp"), settings.record.s1sp),
            ("features", tool.get("features_sha256", identity.features_sha256), identity.features_sha256),
            ("catalogue", tool.get("catalogue_sha256", identity.catalogue_sha256), identity.catalogue_sha256),
        )
        if before != now
    ]
    if differs:
        raise ConfigError(
            f"holds the reports of a run of other settings ({', '.join(differs)} differ), which this run would replace",
            where,
            f"choose another folder, or add {force_option} to replace them",
        )


def _recorded_run(path: Path) -> dict[str, Any] | None:
    """The record in ``path``, or None when there is none or it is not a record (nothing to protect)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "s1sr_version" in data else None
