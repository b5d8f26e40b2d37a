"""index.html packs the bodies of passed and not applicable scenarios, one pack per example across DMCs;
expanded, the page is the page with every body inline; failures and waived scenarios stay inline."""

from __future__ import annotations

import re

from s1sr.catalogue import load_catalogue
from s1sr.report.html import index_html
from s1sr.report.packing import Packer, decompress, unpacked
from s1sr.report.results import RunRecord, ScenarioResult


def _scenario(line: int, dmc: str, outcome: str, reason: str) -> ScenarioResult:
    return ScenarioResult(
        f"example {line}", "f", "features/x.feature", ["18.62"], ["8.11"], dmc, outcome, reason=reason,
        id=f"features/x.feature:{line}[{dmc}]",
        steps=[{"status": "passed", "keyword": "Then", "text": f"the hub gets {line} min on {dmc}"}],
    )  # fmt: skip


def _record() -> RunRecord:
    record = RunRecord("4.3", ["secure-gsme", "secure-esme"])
    record.scenarios = [
        _scenario(7, "secure-gsme", "passed", ""),
        _scenario(7, "secure-esme", "passed", ""),
        _scenario(9, "secure-esme", "not applicable", "no gas <here> on secure-esme"),
        _scenario(11, "secure-esme", "failed", "expected 2 min, got 1 min"),
    ]
    return record


def test_passes_and_not_applicable_are_packed_failures_are_inline() -> None:
    page = index_html(_record(), load_catalogue("4.3")).decode()
    assert page.count('<template class="packed"') == 3
    assert page.count('<script type="application/gzip" class="pack"') == 2  # example 7 (two DMCs), example 9
    assert "expected 2 min, got 1 min" in page  # the failure, inline
    assert "the hub gets 11 min on secure-esme" in page
    for packed in ("the hub gets 7 min", "no gas &lt;here&gt; on secure-esme"):
        assert packed not in page
    blocks = dict(re.findall(r'id="pack-(\d+)">([A-Za-z0-9+/=]*)</script>', page))
    first = decompress(blocks["0"]).split("\x00")
    assert len(first) == 2  # by DMC: secure-esme before secure-gsme, whatever the order of the record
    assert "the hub gets 7 min on secure-esme" in first[0] and "the hub gets 7 min on secure-gsme" in first[1]


def test_expanded_the_page_is_the_page_with_every_body_inline() -> None:
    catalogue, record = load_catalogue("4.3"), _record()  # one record: its start time is on the page
    packed = index_html(record, catalogue).decode()
    inline = index_html(record, catalogue, packed=False).decode()
    assert '<template class="packed"' not in inline and 'class="pack"' not in inline
    assert unpacked(packed) == inline
    assert index_html(record, catalogue).decode() == packed  # deterministic: no timestamp in the gzip


def test_a_nul_in_a_body_cannot_split_its_pack() -> None:
    packer = Packer([("a", "x", "dmc-1"), ("b", "x", "dmc-2")])
    packer.add("b", "second")
    packer.add("a", "first\x00half")
    (blob,) = re.findall(r">([A-Za-z0-9+/=]+)</script>", packer.blocks())
    assert decompress(blob).split("\x00") == ["first\ufffdhalf", "second"]
