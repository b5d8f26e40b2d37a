"""What the reference S1SP does with each real DUIS request of a corpus (the RTDS): executes, refuses, or does not know.

Each template addressed to a meter (an ESME, or a GSME or the GPF that stands for it; for SRV
11.1, a listed meter) goes through ``s1sr translate`` on a fresh simulated estate, with its own
DMC, and is counted:

- **executed**: the S1SP answered with a SMETS1 Response (whether the device accepted or not);
- **refused by reading**: the S1SP refused it as this project reads the S1SR or DUIS (E2 or
  E11, before any device command);
- **not supported**: the reference S1SP has no handler for its Service Reference Variant yet
  (one line, "not supported by the reference S1SP: SRV x.y"), or the request is future-dated,
  which the reference S1SP does not hold or schedule.

The templates addressed to Communications Hubs, PPMIDs or the DCC alone are left out (listed
as ``other devices``), as are files that are not DUIS requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s1sr.dmc_choice import RTDS_DEVICE_TYPES
from s1sr.duis.safe_xml import read_document
from s1sr.errors import InputError, UnsupportedRequest

EXECUTED = "executed"
REFUSED = "refused by reading"
UNSUPPORTED = "not supported"
CATEGORIES = (EXECUTED, REFUSED, UNSUPPORTED)
METER_TYPES = frozenset({"ESME", "GSME", "GPF"})
#: The most templates read from one folder.
MAX_TEMPLATES = 5000


@dataclass(frozen=True)
class TemplateCoverage:
    """One template: its SRV, what the S1SP did, and why in one line."""

    file: str
    srv: str
    category: str
    detail: str


@dataclass
class Coverage:
    """Every meter template of a corpus, and the counts per category and per SRV."""

    version: str
    templates: list[TemplateCoverage] = field(default_factory=list)
    other_devices: int = 0

    def counts(self) -> dict[str, int]:
        """Templates per category."""
        return {c: sum(1 for t in self.templates if t.category == c) for c in CATEGORIES}

    def by_srv(self) -> dict[str, dict[str, int]]:
        """Per SRV, templates per category (SRVs in numeric order)."""
        from s1sr.catalogue import clause_key

        found: dict[str, dict[str, int]] = {}
        for t in self.templates:
            found.setdefault(t.srv, dict.fromkeys(CATEGORIES, 0))[t.category] += 1
        return dict(sorted(found.items(), key=lambda kv: clause_key(kv[0])))

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` document."""
        return {
            "s1sr_version": self.version,
            "counts": self.counts(),
            "other_devices": self.other_devices,
            "by_srv": self.by_srv(),
            "templates": [t.__dict__ for t in self.templates],
        }


def _srv_of(path: Path) -> str:
    """The SRV a template names, read without trusting it is one the S1SP knows (for counting only)."""
    from s1sr.duis.namespaces import NSMAP
    from s1sr.duis.safe_xml import parse_xml

    root = parse_xml(read_document(path), str(path))
    return (root.findtext("sr:Header/sr:ServiceReferenceVariant", "", NSMAP) or "?").strip()


def _meter_target(path: Path) -> bool:
    """Whether a template addresses a meter (for 11.1: lists one), by the RTDS estate's device types."""
    from s1sr.duis.namespaces import NSMAP
    from s1sr.duis.safe_xml import parse_xml

    root = parse_xml(read_document(path), str(path))
    request_id = root.findtext("sr:Header/sr:RequestID", "", NSMAP) or ""
    parts = request_id.strip().split(":")
    target = parts[1].upper() if len(parts) == 3 else ""
    if RTDS_DEVICE_TYPES.get(target) in METER_TYPES:
        return True
    listed = root.findtext(".//sr:DeviceIDList", "", NSMAP) or ""
    return any(RTDS_DEVICE_TYPES.get(d.strip().upper()) in METER_TYPES for d in listed.split(","))


def rtds_coverage(folder: Path, version: str, xsd: str | None) -> Coverage:
    """Every meter template of ``folder`` through ``translate``; :class:`InputError` for a folder that is not one."""
    from s1sr.translate import translate_file

    if not folder.is_dir():
        raise InputError("is not a folder", str(folder), "name the RTDS folder, e.g. ../shared/rtds")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".xml")
    if not files:
        raise InputError("holds no .xml DUIS requests", str(folder), "name the RTDS folder")
    if len(files) > MAX_TEMPLATES:
        raise InputError(f"holds more than {MAX_TEMPLATES} files", str(folder), "name one corpus folder")
    coverage = Coverage(version)
    for path in files:
        if not _meter_target(path):
            coverage.other_devices += 1
            continue
        srv = _srv_of(path)
        try:
            done = translate_file(path, None, version, xsd)
        except UnsupportedRequest:
            coverage.templates.append(
                TemplateCoverage(path.name, srv, UNSUPPORTED, f"not supported by the reference S1SP: SRV {srv}")
            )
            continue
        except InputError as exc:
            if "future-dated" not in exc.what:
                raise
            coverage.templates.append(TemplateCoverage(path.name, srv, UNSUPPORTED, exc.what))
            continue
        denial = done.exchange.denial
        if denial is not None:
            coverage.templates.append(TemplateCoverage(path.name, srv, REFUSED, f"{denial.code}: {denial.reason}"))
        else:
            answer = "succeeded" if done.response.success else f"answered, not successful: {done.response.reason()}"
            coverage.templates.append(TemplateCoverage(path.name, srv, EXECUTED, answer))
    return coverage

