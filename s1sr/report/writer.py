"""The report set of a run: index.html, junit.xml, cucumber.json and results.json.

``report_contents`` gives a function writing each (``render_reports`` their bytes); ``s1sr.report.publish``
puts them in a report folder as one set; ``report_journals`` renders the set of a record rebuilt from
journals (``s1sr report``).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from s1sr.catalogue import Catalogue, load_catalogue
from s1sr.errors import InputError
from s1sr.report.cucumber import write_cucumber_json
from s1sr.report.html import write_index_html
from s1sr.report.journal import MergedJournals, catalogue_digest, merge_journals, read_journal
from s1sr.report.junit import junit_xml
from s1sr.report.publish import REPORT_FILES, claim_report_dir
from s1sr.report.results import RunRecord
from s1sr.report.waivers import WaiverRegister

__all__ = ["REPORT_FILES", "render_reports", "report_contents", "report_journals", "write_reports"]


def _write(out: BinaryIO, data: bytes) -> None:
    out.write(data)


def render_reports(record: RunRecord, catalogue: Catalogue) -> dict[str, bytes]:
    """Every report file of ``record``, by file name (the names of ``REPORT_FILES``), in memory.

    The record's deviation register is judged first (once, on today's date), so the four files agree.
    """
    rendered = {}
    for name, content in report_contents(record, catalogue).items():
        out = io.BytesIO()
        content(out)
        rendered[name] = out.getvalue()
    return rendered


def report_contents(record: RunRecord, catalogue: Catalogue) -> dict[str, Callable[[BinaryIO], None]]:
    """Every report file of ``record``, by file name, as a function that writes it (what ``publish`` takes).

    Each file is written a scenario (or a feature) at a time, and a journaled scenario's evidence is read
    from its journal as it is written, so publishing a gate's reports never holds them, or the evidence,
    all at once. The deviation register is judged first (once, on today's date), so the four files agree.
    """
    record.apply_waivers()
    return {
        "index.html": lambda out: write_index_html(record, catalogue, out),
        "junit.xml": lambda out: _write(out, junit_xml(record)),  # a line per scenario: small
        "cucumber.json": lambda out: write_cucumber_json(record, out),
        "results.json": record.write_json,
    }


def write_reports(record: RunRecord, catalogue: Catalogue, folder: Path) -> list[Path]:
    """Claim ``folder``, publish the report set of ``record`` into it as a whole, release it; the files' paths.

    For a caller that did not claim the folder before the run. A run should claim it before anything
    runs (``claim_report_dir``), so that an unwritable folder is reported before, not after.
    """
    with claim_report_dir(folder) as claim:
        claim.publish(report_contents(record, catalogue))
    return [folder / name for name in REPORT_FILES]


def report_journals(
    journals: list[Path],
    folder: Path | None,
    *,
    allow_mixed: bool = False,
    waivers: WaiverRegister | None = None,
) -> tuple[MergedJournals, Catalogue]:
    """Merge ``journals`` into one record and, when ``folder`` is given, publish its report set there as a whole.

    ``waivers`` replaces the deviation register the journals carry (the one their run had), if any.
    Bad journals, journals that do not merge and a folder that cannot be claimed are :class:`S1srError`
    (one line), found before anything is written. Returns the merge and the catalogue it was rendered with.
    """
    merged = merge_journals([read_journal(path) for path in journals], allow_mixed=allow_mixed)
    if waivers is not None:
        merged.record.use_waivers(waivers)
    if not merged.record.scenarios:  # as a run that recorded nothing: the previous set stays
        raise InputError(
            "holds no scenario: the run ended before it had collected any",
            ", ".join(str(path) for path in journals),
            "run the suite again",
        )
    catalogue = load_catalogue(merged.catalogue_version)
    if merged.catalogue_sha256 != catalogue_digest(catalogue.spec):
        merged.warnings.append(
            f"the journals were written with another S1SR {catalogue.spec} catalogue than this s1sr's; "
            "clause titles and provenance in the reports are this one's"
        )
    if folder is not None:
        with claim_report_dir(folder) as claim:
            claim.publish(report_contents(merged.record, catalogue))
    return merged, catalogue
