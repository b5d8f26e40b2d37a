"""index.html packs passed and not applicable scenarios, a group (a feature's examples on every DMC) at a time:
its rows in one block where they would stand, its bodies in another; expanded, the page is the page with every
row and body inline; failures and waived scenarios stay inline. The page is written as a stream."""

from __future__ import annotations

import io
import re
import tracemalloc
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, overload

from s1sr.catalogue import load_catalogue
from s1sr.report.html import index_html, ordered, write_index_html
from s1sr.report.packing import Packer, decompress, unpacked
from s1sr.report.results import RunRecord, ScenarioResult

ROWS = re.compile(r'<script type="application/gzip" class="rows">([A-Za-z0-9+/=]*)</script>\n')
PACKS = re.compile(r'<script type="application/gzip" class="pack" id="pack-(\d+)">([A-Za-z0-9+/=]*)</script>\n')


def _scenario(line: int, dmc: str, outcome: str, reason: str, feature: str = "x") -> ScenarioResult:
    return ScenarioResult(
        f"example {line}", "f", f"features/{feature}.feature", ["18.62"], ["8.11"], dmc, outcome, reason=reason,
        id=f"features/{feature}.feature:{line}[{dmc}]",
        steps=[{"status": "passed", "keyword": "Then", "text": f"the hub gets {line} min on {dmc}"}],
    )  # fmt: skip


def _record() -> RunRecord:
    record = RunRecord("4.3", ["secure-gsme", "secure-esme"])
    record.scenarios = [
        _scenario(7, "secure-gsme", "passed", ""),
        _scenario(8, "secure-gsme", "passed", ""),
        _scenario(7, "secure-esme", "passed", ""),
        _scenario(8, "secure-esme", "passed", ""),
        _scenario(9, "secure-esme", "not applicable", "no gas <here> on secure-esme"),
        _scenario(11, "secure-esme", "failed", "expected 2 min, got 1 min"),
        _scenario(3, "secure-esme", "passed", "", feature="y"),
    ]
    return record


def test_passes_and_not_applicable_are_packed_by_feature_failures_are_inline() -> None:
    page = index_html(_record(), load_catalogue("4.3")).decode()
    # one group per feature and outcome: x passed (examples 7 and 8 on two DMCs), y passed, x not applicable
    assert len(ROWS.findall(page)) == 3 and len(PACKS.findall(page)) == 3
    assert "expected 2 min, got 1 min" in page  # the failure, inline: its row and its body
    assert 'id="s5" data-outcome="failed"' in page and "the hub gets 11 min on secure-esme" in page
    for packed in ("example 7", "the hub gets 7 min", "no gas &lt;here&gt; on secure-esme", 'id="s0"'):
        assert packed not in page
    assert '<noscript id="packed-note"><p class="muted">6 passed and not applicable scenario(s)' in page
    rows = [decompress(blob) for blob in ROWS.findall(page)]
    # an example on every DMC together, in DMC order, whatever the order of the record; then the next example
    assert re.findall(r'id="(s\d+)"', rows[0]) == ["s2", "s0", "s3", "s1"]
    assert re.findall(r'id="(s\d+)"', rows[1]) == ["s6"] and re.findall(r'id="(s\d+)"', rows[2]) == ["s4"]
    assert '<template class="packed" data-pack="0" data-item="3"></template>' in rows[0]
    assert '<template class="packed" data-pack="1" data-item="0"></template>' in rows[1]
    bodies = decompress(PACKS.findall(page)[0][1]).split("\x00")
    assert [re.findall(r"the hub gets (\d+) min on secure-(\w+)", b) for b in bodies] == [
        [("7", "esme")], [("7", "gsme")], [("8", "esme")], [("8", "gsme")],
    ]  # fmt: skip
    # the failure comes first; the blocks stand where the rows would be, in page order
    assert page.index('id="s5"') < page.index('class="rows"')


def test_expanded_the_page_is_the_page_with_every_row_and_body_inline() -> None:
    catalogue, record = load_catalogue("4.3"), _record()  # one record: its start time is on the page
    packed = index_html(record, catalogue).decode()
    inline = index_html(record, catalogue, packed=False).decode()
    assert '<template class="packed"' not in inline and "application/gzip" not in inline
    assert "packed-note" not in inline and 'data-outcome="passed"' in inline
    assert unpacked(packed) == inline
    assert index_html(record, catalogue).decode() == packed  # deterministic: no timestamp in the gzip


def test_a_scenario_s_anchor_is_its_place_in_the_record() -> None:
    anchors = [a for a, _ in ordered(_record())]
    assert anchors == ["s5", "s2", "s0", "s3", "s1", "s6", "s4"]  # failures first; an example's DMCs together


def test_a_nul_in_a_body_cannot_split_its_pack() -> None:
    packer = Packer()
    packer.enter("x")
    assert packer.hole("first\x00half") == '<template class="packed" data-pack="0" data-item="0"></template>'
    packer.row("<details>a</details>")
    packer.enter("x")
    packer.hole("second")
    packer.row("<details>b</details>")
    blocks = packer.close()
    (rows,) = ROWS.findall(blocks)
    ((number, blob),) = PACKS.findall(blocks)
    assert decompress(rows) == "<details>a</details><details>b</details>"
    assert number == "0" and decompress(blob).split("\x00") == ["first\ufffdhalf", "second"]


def test_a_group_is_written_as_soon_as_the_next_scenario_is_not_in_it() -> None:
    packer = Packer()
    assert packer.enter("passed|x:7") == ""
    packer.hole("body 7")
    assert packer.row("<details>7</details>") == ""  # kept until its group ends
    ended = packer.enter(None)  # an inline scenario: the group before it is written first
    assert len(ROWS.findall(ended)) == 1 and len(PACKS.findall(ended)) == 1
    assert packer.row("<details>failed</details>") == "<details>failed</details>"
    assert packer.enter("passed|x:8") == ""
    packer.hole("body 8")
    packer.row("<details>8</details>")
    last = packer.close()
    assert decompress(ROWS.findall(last)[0]) == "<details>8</details>"
    assert PACKS.findall(last)[0][0] == "1"  # numbered in page order
    assert packer.close() == ""


def test_a_group_s_pack_ends_at_its_size_limit() -> None:
    packer = Packer(pack_chars=10)
    packer.enter("passed|x")
    assert packer.hole("0123456789") == '<template class="packed" data-pack="0" data-item="0"></template>'
    packer.row("<details>a</details>")
    ended = packer.enter("passed|x")  # same feature, but the pack is full: a new group begins
    assert decompress(ROWS.findall(ended)[0]) == "<details>a</details>"
    assert packer.hole("next") == '<template class="packed" data-pack="1" data-item="0"></template>'
    packer.row("<details>b</details>")
    assert decompress(PACKS.findall(packer.close())[0][1]) == "next"


class OnceEvidence(Sequence[dict[str, Any]]):
    """Evidence as a journaled scenario has it: built anew on each iteration (counted), never indexed."""

    def __init__(self, scenario: int, size: int) -> None:
        self.scenario, self.size, self.iterations = scenario, size, 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self.iterations += 1
        # distinct per scenario, as signatures are, so that nothing is shared between scenarios' XML
        xml = "".join(f"<sr:X>{self.scenario}-{i}</sr:X>" for i in range(self.size // 16))
        yield {"srv": "8.11", "refused": "", "success": True, "request_schema": "valid", "response_schema": "valid",
               "signature": "verifies", "correlation": "matches", "device_commands": [], "outcomes": [],
               "request_xml": xml, "response_xml": xml}  # fmt: skip

    def __len__(self) -> int:
        return 1

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> Any:
        raise AssertionError("the page indexes the evidence: it should only iterate it")


def _gate_record(examples: int, dmcs: int, size: int) -> RunRecord:
    record = RunRecord("4.3", [f"gate-{d:02d}" for d in range(dmcs)])
    for d in range(dmcs):
        for e in range(examples):
            scenario = _scenario(e, f"gate-{d:02d}", "passed" if e % 5 else "failed", "")
            scenario.evidence = OnceEvidence(d * examples + e, size)
            record.scenarios.append(scenario)
    return record


def test_the_page_is_written_in_chunks_reading_each_scenario_s_evidence_once() -> None:
    record = _gate_record(examples=10, dmcs=4, size=20_000)
    writes: list[int] = []

    class Sink(io.BytesIO):
        def write(self, data: Any) -> int:
            writes.append(len(data))
            return super().write(data)

    sink = Sink()
    write_index_html(record, load_catalogue("4.3"), sink)
    assert sink.getvalue() == index_html(record, load_catalogue("4.3"))  # the same bytes, whole or streamed
    iterations = [s.evidence.iterations for s in record.scenarios if isinstance(s.evidence, OnceEvidence)]
    assert iterations == [2] * 40  # once per rendering: two renderings
    assert len(writes) > 3  # the 8 failures' 80 kB bodies inline: more than one write
    text = unpacked(sink.getvalue().decode())
    assert text.count("&lt;sr:X&gt;") == 2 * 40 * 20_000 // 16  # every exchange's XML, request and response


def test_rendering_a_gate_s_page_holds_one_group_at_a_time_not_the_page(tmp_path: Path) -> None:
    # 60 scenario examples passed on 10 DMCs, 16 kB of XML each: 19 MB of rows and bodies once rendered.
    record = _gate_record(examples=60, dmcs=10, size=8_000)
    for scenario in record.scenarios:
        scenario.outcome = "passed"
    catalogue = load_catalogue("4.3")
    index_html(_record(), catalogue)  # the template compiled once, as for any page after the first
    with (tmp_path / "index.html").open("wb") as page:
        tracemalloc.start()
        try:
            write_index_html(record, catalogue, page)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    written = (tmp_path / "index.html").stat().st_size
    rendered = len(unpacked((tmp_path / "index.html").read_text()))
    assert rendered > 18_000_000 and written < rendered // 10
    assert peak < 2_500_000, peak  # a group (ten bodies, 300 kB) and its compressor at a time, never the page
