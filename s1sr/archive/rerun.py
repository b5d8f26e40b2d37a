"""``s1sr run --rerun RUN``: that run's failed, error and not-run scenarios again, with the settings it recorded.

A run's manifest keeps the settings it ran with (``settings``, see :func:`recorded_settings`); a re-run
takes each of them unless the command line gives it again, and selects the scenarios by their pytest
node ids (which the journal keeps), through :mod:`s1sr.archive.selection`. The new run is archived
as any other, its manifest naming the first (``rerun_of``).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s1sr.archive.store import ArchivedRun
from s1sr.catalogue import CATALOGUE_DIR_ENV
from s1sr.errors import InputError
from s1sr.report.journal import merge_journals, read_journal
from s1sr.report.results import ScenarioResult

if TYPE_CHECKING:
    from s1sr.plugin.settings import RunSettings
    from s1sr.runner import RunOptions

#: The outcomes a re-run runs again.
RERUN_OUTCOMES = ("failed", "error", "not run")
#: The journal's name in a run's folder.
JOURNAL = "journal.jsonl"

#: ``s1sr run`` parameters (click's names) -> the recorded setting each overrides.
_OVERRIDES = {
    "s1sr_version": "version",
    "modifications": "version",
    "dmcs": "dmcs",
    "adapter": "adapter",
    "adapter_options": "adapter_options",
    "device_url": "adapter_options",
    "pool": "pool",
    "waivers": "waivers",
    "timeout": "timeout_s",
    "s1sp": "s1sp",
    "s1sp_version": "s1sp_version",
    "target": "target",
    "duis_url": "duis",
    "user_key": "duis",
    "user_cert": "duis",
    "trust": "duis",
    "response_listen": "duis",
    "response_path": "duis",
    "response_timeout": "duis",
    "user_keys": "duis",
    "feature_dirs": "feature_dirs",
    "catalogue": "catalogue",
    "xsd": "xsd",
    "signing_key": "signing",
    "signing_cert": "signing",
}


def recorded_settings(options: RunOptions, settings: RunSettings) -> dict[str, Any]:
    """What a re-run of this run runs with, as the manifest keeps it (paths absolute, DMCs resolved)."""
    duis: dict[str, Any] = {}
    for name, value in options.duis.items():
        if isinstance(value, (list, tuple)):
            duis[name] = [os.path.abspath(v) for v in value]
        elif isinstance(value, Path):
            duis[name] = os.path.abspath(value)
        else:
            duis[name] = value
    catalogue = os.environ.get(CATALOGUE_DIR_ENV) or None
    return {
        "version": options.version,
        "dmcs": list(settings.dmcs),
        "clauses": list(options.clauses),
        "adapter": options.adapter,
        "adapter_options": list(options.adapter_options),
        "pool": os.path.abspath(options.pool) if options.pool else None,
        "waivers": os.path.abspath(options.waivers) if options.waivers else None,
        "timeout_s": options.timeout_s,
        "s1sp": options.s1sp,
        "s1sp_version": options.s1sp_version,
        "target": options.target,
        "duis": duis,
        "feature_dirs": [os.path.abspath(p) for p in options.feature_dirs],
        "catalogue": os.path.abspath(catalogue) if catalogue else None,
        "xsd": settings.record.xsd,
        "signing_key": os.path.abspath(options.signing_key) if options.signing_key else None,
        "signing_cert": os.path.abspath(options.signing_cert) if options.signing_cert else None,
        "workers": options.workers,
        "shard": options.shard,
        "pytest_args": list(options.pytest_args),
    }


@dataclass
class Rerun:
    """What ``--rerun RUN`` runs: the run, and its scenarios to run again (with their node ids)."""

    run: ArchivedRun
    scenarios: list[ScenarioResult] = field(default_factory=list)

    def nothing_to_do(self) -> str:
        """The line ``s1sr run --rerun`` prints when there is nothing to run again."""
        return f"run {self.run.name} has no failed, error or not-run scenario ({self.run.counts()}): nothing to re-run"

    def apply(self, options: RunOptions, given: Collection[str]) -> RunOptions:
        """``options`` with the recorded settings in place of those the command line did not give.

        ``given`` holds the names of the ``s1sr run`` parameters given on the command line. The
        catalogue folder is a setting of the process (``S1SR_CATALOGUE_DIR``): it is set here.
        The scenarios run are those of this re-run whose DMC the run has.
        """
        recorded: dict[str, Any] = self.run.manifest.get("settings") or {}
        overridden = {_OVERRIDES[name] for name in given if name in _OVERRIDES}
        changes: dict[str, Any] = {}
        simple = ("version", "dmcs", "timeout_s", "s1sp", "s1sp_version", "target", "xsd")
        for key in simple:
            if key not in overridden and recorded.get(key) is not None:
                changes[key] = recorded[key]
        if "adapter" not in overridden and recorded.get("adapter"):
            changes["adapter"] = recorded["adapter"]
            if "adapter_options" not in overridden:
                changes["adapter_options"] = list(recorded.get("adapter_options") or [])
        if "pool" not in overridden and recorded.get("pool"):
            changes["pool"] = Path(recorded["pool"])
        if "waivers" not in overridden and recorded.get("waivers"):
            changes["waivers"] = Path(recorded["waivers"])
        if "duis" not in overridden and recorded.get("duis"):
            changes["duis"] = {
                name: [Path(p) for p in value] if isinstance(value, list) else value
                for name, value in recorded["duis"].items()
            }
        if "feature_dirs" not in overridden and recorded.get("feature_dirs"):
            changes["feature_dirs"] = [Path(p) for p in recorded["feature_dirs"]]
        if "signing" not in overridden and recorded.get("signing_key") and recorded.get("signing_cert"):
            changes["signing_key"] = Path(recorded["signing_key"])
            changes["signing_cert"] = Path(recorded["signing_cert"])
        if "catalogue" not in overridden and recorded.get("catalogue"):
            os.environ[CATALOGUE_DIR_ENV] = str(recorded["catalogue"])
        rerun = dataclasses.replace(options, **changes)
        dmcs = set(rerun.dmcs) if rerun.dmcs else None
        nodeids = [s.nodeid for s in self.scenarios if s.nodeid and (dmcs is None or s.dmc in dmcs)]
        return dataclasses.replace(rerun, nodeids=nodeids)


def plan_rerun(run: ArchivedRun) -> Rerun:
    """The scenarios of ``run`` to run again: those ``failed``, ``error`` or ``not run``, as its journal has them.

    :class:`InputError` (one line) for a run whose folder holds no readable journal.
    """
    journal = run.folder / JOURNAL
    if not journal.is_file():
        raise InputError(
            "holds no journal.jsonl, so its scenarios cannot be named again", str(run.folder), "re-run it whole"
        )
    merged = merge_journals([read_journal(journal)], allow_mixed=True)
    again = [s for s in merged.record.scenarios if s.outcome in RERUN_OUTCOMES]
    missing = [s.id for s in again if not s.nodeid]
    if missing:
        raise InputError(f"scenario {missing[0]} has no node id in the journal", str(journal), "re-run it whole")
    return Rerun(run, again)
