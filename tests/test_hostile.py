"""Hostile and malformed input: one line naming the problem, exit code 2, no traceback, nothing read.

The corpus is ``fixtures/hostile/``; two more cases (a document over the size limit and a
firmware image over 10,240,000 characters) are generated here rather than kept as 10 MB files.
"""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest

from s1sr.duis.request import parse_request
from s1sr.duis.safe_xml import MAX_DOCUMENT_BYTES, parse_xml, read_document
from s1sr.errors import S1srError
from tests.conftest import REPO, s1sr
from tests.test_value_integrity import WHOLE_VALUES

CORPUS = REPO / "fixtures" / "hostile"

# file -> (what the S1SP's own checks say, what `s1sr translate` with the DUIS schema says,
#          `s1sr validate`'s exit code: 2 unreadable or unsafe, 1 schema-invalid, 0 schema-valid)
EXPECTED = {
    "01-xxe-local-file.xml": ("DOCTYPE", "DOCTYPE", 2),
    "02-xxe-network.xml": ("DOCTYPE", "DOCTYPE", 2),
    "03-external-dtd.xml": ("DOCTYPE", "DOCTYPE", 2),
    "04-billion-laughs.xml": ("DOCTYPE", "DOCTYPE", 2),
    "05-quadratic-blowup.xml": ("DOCTYPE", "DOCTYPE", 2),
    "06-parameter-entity.xml": ("DOCTYPE", "DOCTYPE", 2),
    "07-deep-nesting.xml": ("deeper than 64 levels", "deeper than 64 levels", 2),
    "08-non-utf8-bytes.xml": ("not valid UTF-8 (byte 0xe9", "not valid UTF-8", 2),
    "09-utf16.xml": ("not valid UTF-8 (byte 0xff at offset 0)", "not valid UTF-8", 2),
    "10-not-xml.xml": ("not well-formed XML", "not well-formed XML", 2),
    "11-empty.xml": ("document is empty", "document is empty", 2),
    "12-whitespace-only.xml": ("document is empty", "document is empty", 2),
    "13-wrong-root.xml": ("not a DUIS sr:Request", "sr:Response", 1),
    "14-wrong-namespace.xml": ("{http://example.com/not-duis}Request", "not-duis", 1),
    "15-unknown-srv.xml": ("not supported by the reference S1SP: SRV 99.9", "found '99.9'", 1),
    "16-unhandled-srv.xml": (
        "not supported by the reference S1SP: SRV 7.1",
        "not supported by the reference S1SP: SRV 7.1",
        0,
    ),
    "17-missing-header.xml": ("missing sr:Header", "sr:Header", 1),
    "18-missing-request-id.xml": ("missing sr:RequestID", "sr:RequestID", 1),
    "19-missing-srv.xml": ("missing sr:ServiceReferenceVariant", "sr:ServiceReferenceVariant", 1),
    "20-request-id-two-parts.xml": ("originator:target:counter", "RequestID", 1),
    "21-bad-eui-originator.xml": ("'GG-B3-D5-1F-30-01-00-00' is not an EUI-64", "RequestID", 1),
    "22-short-eui-target.xml": ("'00-DB-12-34-56-78-90' is not an EUI-64", "RequestID", 1),
    "23-counter-too-big.xml": ("counter '18446744073709551616'", "RequestID", 1),
    "24-bad-eui-in-device-list.xml": ("'ZZ-DB-12-34-56-78-90-B0' is not an EUI-64", "DeviceIDList", 1),
    "25-adjust-above-int32.xml": ("2147483648 is outside its DUIS range", "AdjustMeterBalance", 1),
    "26-adjust-not-a-number.xml": ("'twelve pounds' is not an integer", "AdjustMeterBalance", 1),
    "27-join-time-zero.xml": ("JoinTimePeriod 0 is outside its DUIS range 1..3600", "JoinTimePeriod", 1),
    "28-join-time-3601.xml": ("JoinTimePeriod 3601 is outside its DUIS range 1..3600", "JoinTimePeriod", 1),
    "29-load-limit-above-uint32.xml": ("4294967296 is outside its DUIS range", "LoadLimitPowerThreshold", 1),
    "30-missing-body.xml": ("needs sr:Body/sr:UpdateMeterBalance", "sr:Body", 1),
    "31-body-for-another-srv.xml": (
        "needs sr:Body/sr:UpdateMeterBalance",
        "needs sr:Body/sr:UpdateMeterBalance",
        0,
    ),
    "32-unclosed-tag.xml": ("not well-formed XML (line 16)", "not well-formed XML", 2),
    "33-xinclude.xml": ("missing sr:AdjustMeterBalance", "xi:include", 1),
    "34-command-variant-9.xml": ("CommandVariant '9' is not 1..8", "CommandVariant", 0),
    "35-bad-boolean.xml": ("'maybe' is not a boolean", "'maybe' is not a boolean", 1),
    "36-superscript-digit-counter.xml": ("counter '²001'", "RequestID", 1),
    "37-bad-execution-datetime.xml": ("'next tuesday' is not a date-time", "ExecutionDateTime", 1),
    # 38-42 are schema-valid: comments, a processing instruction and CDATA split a value that
    # both readers must read whole (tests/test_value_integrity.py). From 43 on, refused:
    "43-doctype-after-70k-comment.xml": ("DOCTYPE", "DOCTYPE", 2),  # the old check read only 64 KiB
    "44-entity-used-after-70k-comment.xml": ("DOCTYPE", "DOCTYPE", 2),  # was a traceback from the schema
    "45-doctype-after-root.xml": ("not well-formed XML (line 17)", "Extra content at the end", 2),
    "46-undeclared-entity-reference.xml": ("Entity 'amount' not defined", "Entity 'amount' not defined", 2),
    "47-element-inside-value.xml": (
        "sr:AdjustMeterBalance holds an element (Pence) where DUIS has a value",
        "AdjustMeterBalance (line 12)",
        1,
    ),
    "48-unicode-space-in-number.xml": (
        "AdjustMeterBalance '\\xa01200000' is not an integer",
        "'\\xa01200000' is not a valid value of the atomic type 'xs:int'",
        1,
    ),
    "49-comment-splits-number-out-of-range.xml": (
        "AdjustMeterBalance 2147483648 is outside its DUIS range",
        "AdjustMeterBalance (line 12)",
        1,
    ),
    "50-cdata-splits-counter-too-big.xml": ("counter '18446744073709551616'", "RequestID (line 4)", 1),
    "51-space-in-enumeration.xml": ("RequestType ' Add' is not Add or Remove", "found ' Add'", 1),
    "52-long-number.xml": ("AdjustMeterBalance 9999", "AdjustMeterBalance (line 12)", 1),
    "53-long-element-name.xml": ("missing sr:AdjustMeterBalance", "AAAA… (5,003 characters)", 1),
}


def test_the_corpus_is_complete() -> None:
    assert sorted(p.name for p in CORPUS.iterdir()) == sorted([*EXPECTED, *WHOLE_VALUES])
    assert len(EXPECTED) >= 48


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_s1sp_refuses_it_with_its_own_checks(name: str) -> None:
    started = time.perf_counter()
    with pytest.raises(S1srError) as caught:
        path = CORPUS / name
        parse_request(parse_xml(read_document(path), str(path)), str(path))
    assert EXPECTED[name][0] in caught.value.line()
    assert "\n" not in caught.value.line()
    assert len(caught.value.line()) < 400
    assert time.perf_counter() - started < 5  # bounded: nothing expands or hangs


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_translate_gives_one_line_and_exit_2(name: str, duis_schema: object) -> None:
    done = s1sr("translate", str(CORPUS / name), "--json")
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("s1sr: error: "), done.stderr
    assert name in lines[0]
    assert EXPECTED[name][1] in lines[0]
    assert len(lines[0]) < 600


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_validate_gives_a_verdict_or_one_line(name: str, duis_schema: object) -> None:
    """Unsafe or unreadable: one line, exit 2. Well-formed: a verdict (1 invalid, 0 valid), short lines."""
    expected_exit = EXPECTED[name][2]
    done = s1sr("validate", str(CORPUS / name))
    assert done.returncode == expected_exit, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    if expected_exit == 2:
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("s1sr: error: "), done.stderr
        assert EXPECTED[name][1] in lines[0]
    else:
        assert done.stderr == ""
        assert ("INVALID" if expected_exit else "valid") in done.stdout
        if expected_exit == 1:
            assert EXPECTED[name][1] in done.stdout
    assert all(len(line) < 600 for line in done.stdout.splitlines())


def test_no_file_is_read_through_an_entity(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    doc = (CORPUS / "01-xxe-local-file.xml").read_text().replace("file:///etc/passwd", secret.as_uri())
    with pytest.raises(S1srError) as caught:
        parse_xml(doc.encode())
    assert "TOP-SECRET-VALUE" not in caught.value.line()


def test_a_document_over_the_size_limit_names_the_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    with big.open("wb") as out:
        out.write(b"<a>")
        out.write(b" " * MAX_DOCUMENT_BYTES)
        out.write(b"</a>")
    done = s1sr("translate", str(big))
    assert done.returncode == 2
    assert f"over the {MAX_DOCUMENT_BYTES:,}-byte limit" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def _firmware_request(tmp_path: Path, image_bytes: int) -> Path:
    template = (CORPUS / "24-bad-eui-in-device-list.xml").read_text()
    image = base64.b64encode(b"\0" * image_bytes).decode()
    path = tmp_path / "firmware.xml"
    path.write_text(template.replace("SGVsbG8=", image).replace(",ZZ-DB-12-34-56-78-90-B0", ""))
    return path


def test_a_firmware_image_of_exactly_the_duis_maximum_is_accepted(tmp_path: Path) -> None:
    path = _firmware_request(tmp_path, 7_680_000)  # 10,240,000 base64 characters
    request = parse_request(parse_xml(read_document(path)), str(path))
    assert len(request.body.firmware_image) == 10_240_000  # type: ignore[union-attr]


def test_a_firmware_image_over_the_duis_maximum_is_refused(tmp_path: Path) -> None:
    path = _firmware_request(tmp_path, 7_680_003)  # 10,240,004 base64 characters
    with pytest.raises(S1srError) as caught:
        parse_request(parse_xml(read_document(path)), str(path))
    assert "over the DUIS maximum of 10,240,000" in caught.value.line()
    done = s1sr("translate", str(path))
    assert done.returncode == 2 and "FirmwareImage" in done.stderr, done.stderr
