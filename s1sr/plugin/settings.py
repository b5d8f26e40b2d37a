"""What a run tests, checked once before anything runs: version, DMCs, features, schema, keys, adapter, S1SP."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from s1sr.authoring import refuse_authoring_problems
from s1sr.bundle import features_dir
from s1sr.catalogue import Catalogue, default_dmcs, find_dmc, load_catalogue
from s1sr.devices.registry import adapter_class
from s1sr.duis.schema import DuisSchema, find_schema, load_schema
from s1sr.duis.signing import Credentials, generated_credentials, load_credentials
from s1sr.errors import ConfigError, S1srError
from s1sr.report.journal import JournalTarget, RunIdentity, catalogue_digest, features_digest, start_journal
from s1sr.report.publish import ReportDirClaim, claim_report_dir
from s1sr.report.results import RunRecord
from s1sr.s1sp.registry import s1sp_class
from s1sr.session import SchemaCounts


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
    s1sp: str,
    s1sp_version: str | None,
    shard: str | None = None,
    shard_option: str = "--shard",
    check_feature_files: bool = True,
) -> RunSettings:
    """Check and resolve what a run needs; :class:`S1srError` (one line) for anything wrong.

    ``s1sr run`` calls this before pytest starts, and the plugin again inside pytest, so a
    plain ``pytest`` run is checked the same way. A pytest-xdist worker leaves the feature files'
    parse check (``check_feature_files``) to its controller, which made it moments before.
    """
    check_timeout(timeout_s)
    part = parse_shard(shard, shard_option) if shard is not None else None
    catalogue = load_catalogue(version)
    dmcs = list(dict.fromkeys(dmcs)) or default_dmcs()
    for name in dmcs:
        find_dmc(name)
    dirs = feature_dirs or [features_dir()]
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
    s1sp_class(s1sp)
    record.adapter, record.s1sp = adapter, s1sp
    s1sp_catalogue = load_catalogue(s1sp_version) if s1sp_version else None
    if s1sp_catalogue is not None and s1sp_version != version:
        record.s1sp = f"{s1sp} (configured for S1SR {s1sp_version})"
    return RunSettings(
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
