"""The report folder of a run: results.json, index.html, junit.xml and cucumber.json, each written atomically."""

from __future__ import annotations

import json
from pathlib import Path

from s1sr.catalogue import Catalogue
from s1sr.report.cucumber import cucumber_json
from s1sr.report.files import write_atomically
from s1sr.report.html import index_html
from s1sr.report.junit import junit_xml
from s1sr.report.results import RunRecord

REPORT_FILES = ("results.json", "index.html", "junit.xml", "cucumber.json")


def write_reports(record: RunRecord, catalogue: Catalogue, folder: Path) -> list[Path]:
    """Write every report file of ``record`` into ``folder``; results.json last, as the run's seal."""
    written = [
        write_atomically(folder / "index.html", index_html(record, catalogue)),
        write_atomically(folder / "junit.xml", junit_xml(record)),
        write_atomically(folder / "cucumber.json", cucumber_json(record)),
        write_atomically(folder / "results.json", json.dumps(record.as_dict(), indent=2).encode("utf-8") + b"\n"),
    ]
    return written
