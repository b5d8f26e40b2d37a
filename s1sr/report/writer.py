"""The report set of a run: the bytes of index.html, junit.xml, cucumber.json and results.json.

``render_reports`` makes them; ``s1sr.report.publish`` puts them in a report folder as one set.
"""

from __future__ import annotations

import json
from pathlib import Path

from s1sr.catalogue import Catalogue
from s1sr.report.cucumber import cucumber_json
from s1sr.report.html import index_html
from s1sr.report.junit import junit_xml
from s1sr.report.publish import REPORT_FILES, claim_report_dir
from s1sr.report.results import RunRecord

__all__ = ["REPORT_FILES", "render_reports", "write_reports"]


def render_reports(record: RunRecord, catalogue: Catalogue) -> dict[str, bytes]:
    """Every report file of ``record``, by file name (the names of ``REPORT_FILES``)."""
    return {
        "index.html": index_html(record, catalogue),
        "junit.xml": junit_xml(record),
        "cucumber.json": cucumber_json(record),
        "results.json": json.dumps(record.as_dict(), indent=2).encode("utf-8") + b"\n",
    }


def write_reports(record: RunRecord, catalogue: Catalogue, folder: Path) -> list[Path]:
    """Claim ``folder``, publish the report set of ``record`` into it as a whole, release it; the files' paths.

    For a caller that did not claim the folder before the run. A run should claim it before anything
    runs (``claim_report_dir``), so that an unwritable folder is reported before, not after.
    """
    with claim_report_dir(folder) as claim:
        claim.publish(render_reports(record, catalogue))
    return [folder / name for name in REPORT_FILES]
