"""One reading of every value: what the DUIS schema validates is what the S1SP is judged on.

Issue 8, part 1. Each finding is reproduced here:

- a comment, a processing instruction or a CDATA section splits a value: the schema reads the
  whole string value (``1<!-- c -->200000`` is 1200000), so the S1SP must too, never ``1``;
- a DOCTYPE after a 70 KB comment slipped past a 64 KiB prefix scan (an unused entity then
  translated with exit 0, a used one crashed the schema check with a traceback);
- a schema importing an ``http://`` URL made the explainer fetch it;
- explaining an invalid document was quadratic (8,000 bad attributes: 6 s), and a
  10,240,001-character FirmwareImage was echoed whole (10 MB printed, 1.9 GB peak).

Expected values are literal. DUIS money is in 10^-5 pounds, a penny is 1,000 units, and the
S1SP truncates toward zero (S1SR 18.3): 1,200,000 units reach the meter as 1200 pence,
-1,500 units as -1 penny.
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

from s1sr.duis.request import UpdateFirmware, UpdateMeterBalance, parse_request
from s1sr.duis.safe_xml import MAX_ATTRIBUTES, MAX_DEPTH, parse_xml, read_document, readable, shorten
from s1sr.duis.schema import EXPLAIN_MAX_ELEMENTS, DuisSchema
from s1sr.errors import S1srError
from tests.conftest import REPO, s1sr

CORPUS = REPO / "fixtures" / "hostile"
REQUEST_ID = "90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:2001"
METER = "00-DB-12-34-56-78-90-A0"

# file -> (AdjustMeterBalance as the S1SP reads it, in DUIS units; amount_pence the meter is sent).
# Every one has the RequestID REQUEST_ID and targets METER, however its text is split.
WHOLE_VALUES = {
    "38-comment-in-money.xml": (1_200_000, 1200),  # 1<!-- c -->200000: was amount_pence 0
    "39-pi-in-money.xml": (-1_500, -1),  # -1<?s1sr split?>500: was -1 unit, 0 pence
    "40-comment-in-counter.xml": (1_200_000, 1200),  # counter 20<!--x-->01: was read as 20
    "41-cdata-money.xml": (1_200_000, 1200),  # 12<![CDATA[00]]>000
    "42-comment-in-eui.xml": (1_200_000, 1200),  # target 00-DB-12-34<!-- -->-56-78-90-A0: was refused
}


# --- 1. Comments, processing instructions and CDATA never split a value ------------------


@pytest.mark.parametrize("name", sorted(WHOLE_VALUES))
def test_the_s1sp_reads_the_whole_value(name: str) -> None:
    path = CORPUS / name
    request = parse_request(parse_xml(read_document(path), str(path)), str(path))
    assert isinstance(request.body, UpdateMeterBalance)
    assert request.body.adjust == WHOLE_VALUES[name][0]
    assert str(request.request_id) == REQUEST_ID
    assert request.target == METER


@pytest.mark.parametrize("name", sorted(WHOLE_VALUES))
def test_the_schema_and_the_translation_read_the_same_value(name: str, duis_schema: DuisSchema) -> None:
    path = CORPUS / name
    assert duis_schema.problems(parse_xml(read_document(path))) == []
    valid = s1sr("validate", str(path))
    assert valid.returncode == 0, valid.stdout + valid.stderr
    done = s1sr("translate", str(path), "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["request_id"] == REQUEST_ID
    assert result["schema"]["request_valid"] is True
    [command] = result["device_commands"]
    assert (command["name"], command["device_id"]) == ("AdjustMeterBalance", METER)
    assert command["fields"] == {"amount_pence": WHOLE_VALUES[name][1]}


def _request(adjust: str) -> bytes:
    template = (CORPUS / "38-comment-in-money.xml").read_text()
    return template.replace("1<!-- c -->200000", adjust).encode()


def test_the_reader_does_not_rely_on_the_parser_dropping_comments() -> None:
    """A tree parsed elsewhere (comments and PIs kept as nodes) still reads whole."""
    root = etree.fromstring(_request("1<!-- c -->2<?pi x?>00000"))
    body = parse_request(root).body
    assert isinstance(body, UpdateMeterBalance) and body.adjust == 1_200_000


def test_an_entity_reference_inside_a_value_is_refused_not_skipped() -> None:
    doc = _request("1&rest;").replace(b"<sr:Request ", b'<!DOCTYPE r [<!ENTITY rest "200000">]><sr:Request ', 1)
    root = etree.fromstring(doc, etree.XMLParser(resolve_entities=False))  # not through parse_xml
    with pytest.raises(S1srError) as caught:
        parse_request(root)
    assert "sr:AdjustMeterBalance holds an entity reference" in caught.value.line()


@pytest.mark.parametrize(
    ("written", "read"),
    [
        (" \t1200000\n", 1_200_000),  # XML whitespace: collapsed, as for xs:int
        ("+1200000", 1_200_000),
        ("0001200000", 1_200_000),  # leading zeros: still xs:int 1200000
        ("-0", 0),
        ("2147483647", 2_147_483_647),
        ("-2147483648", -2_147_483_648),
    ],
)
def test_integers_are_read_as_xs_int_reads_them(written: str, read: int, duis_schema: DuisSchema) -> None:
    root = parse_xml(_request(written))
    assert duis_schema.is_valid(root)
    body = parse_request(root).body
    assert isinstance(body, UpdateMeterBalance) and body.adjust == read


@pytest.mark.parametrize(
    ("written", "refusal"),
    [
        ("\u00a01200000", "'\\xa01200000' is not an integer"),  # no-break space: not XML whitespace
        ("1\u2003200000", "'1\\u2003200000' is not an integer"),
        ("١٢٠٠٠٠٠", "'١٢٠٠٠٠٠' is not an integer"),  # Arabic-Indic digits: int() takes them, xs:int does not
        ("1_200_000", "'1_200_000' is not an integer"),
        ("2147483648", "2147483648 is outside its DUIS range"),
        ("0" * 40 + "2147483648", "2147483648 is outside its DUIS range"),
    ],
)
def test_what_xs_int_refuses_the_s1sp_refuses(written: str, refusal: str, duis_schema: DuisSchema) -> None:
    root = parse_xml(_request(written))
    assert not duis_schema.is_valid(root)
    with pytest.raises(S1srError) as caught:
        parse_request(root)
    assert refusal in caught.value.line()


def _firmware(version: str, image: str = "SGVsbG8=") -> bytes:
    template = (CORPUS / "24-bad-eui-in-device-list.xml").read_text().replace(",ZZ-DB-12-34-56-78-90-B0", "")
    return template.replace("SGVsbG8=", image).replace("00000101", version).encode()


def test_a_string_value_is_read_as_written(duis_schema: DuisSchema) -> None:
    """FirmwareVersion is an xs:string: the schema keeps its spaces, so the S1SP gets them too."""
    root = parse_xml(_firmware(" 0101 "))
    assert duis_schema.is_valid(root)
    body = parse_request(root).body
    assert isinstance(body, UpdateFirmware) and body.firmware_version == " 0101 "


# --- 2. DOCTYPE, entity declarations and references, wherever they stand ----------------


def _with_prolog(prolog: str) -> bytes:
    return _request("1200000").replace(b"<sr:Request ", prolog.encode() + b"<sr:Request ", 1)


@pytest.mark.parametrize(
    "prolog",
    [
        '<!DOCTYPE r [<!ENTITY unused "1">]>',
        "<!--" + "x" * 70_000 + '--><!DOCTYPE r [<!ENTITY unused "1">]>',  # past the old 64 KiB scan
        "<!--" + "x" * 11_000_000 + '--><!DOCTYPE r SYSTEM "file:///etc/passwd">',  # near the 12 MiB limit
        "<?pi one?><!-- two -->\n\n<?pi three?><!DOCTYPE r>",
        "<!--" + "--><!--" * 20_000 + "--><!DOCTYPE r PUBLIC 'x' 'http://127.0.0.1:9/x.dtd'>",
    ],
    ids=["plain", "after-70k-comment", "after-11M-comment", "after-pis-and-comments", "after-20k-comments"],
)
def test_a_doctype_anywhere_in_the_prolog_is_refused(prolog: str) -> None:
    started = time.perf_counter()
    with pytest.raises(S1srError) as caught:
        parse_xml(_with_prolog(prolog))
    assert "document has a DOCTYPE" in caught.value.line()
    assert time.perf_counter() - started < 10  # a guard against a hang, not a benchmark


def test_a_doctype_after_the_root_is_not_well_formed() -> None:
    with pytest.raises(S1srError) as caught:
        parse_xml(_request("1200000") + b"<!DOCTYPE r [<!ENTITY e 'x'>]>")
    assert "not well-formed XML (line 17): Extra content at the end of the document" in caught.value.line()


def test_an_entity_reference_without_a_declaration_is_not_well_formed() -> None:
    with pytest.raises(S1srError) as caught:
        parse_xml(_request("&amount;"))
    assert "Entity 'amount' not defined" in caught.value.line()


def test_no_file_is_read_through_an_entity_after_a_large_comment(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE")
    prolog = "<!--" + "x" * 100_000 + f'--><!DOCTYPE r [<!ENTITY s SYSTEM "{secret.as_uri()}">]>'
    path = tmp_path / "xxe.xml"
    path.write_bytes(_with_prolog(prolog).replace(b">1200000<", b">&s;<"))
    for command in ("validate", "translate"):
        done = s1sr(command, str(path))
        assert done.returncode == 2, done.stdout + done.stderr
        assert "TOP-SECRET-VALUE" not in done.stdout + done.stderr
        assert done.stderr.strip().splitlines() == [
            f"s1sr: error: {path}: document has a DOCTYPE; DTDs and entity declarations are not allowed in DUIS;"
            " remove the DOCTYPE"
        ]


def test_a_doctype_naming_a_local_file_never_opens_it(tmp_path: Path) -> None:
    """Past the old 64 KiB scan, libxml2 opened a DOCTYPE's external subset. A FIFO that nobody
    writes to blocks whoever opens it, so a parse that touches it hangs (and fails here)."""
    fifo = tmp_path / "subset.dtd"
    os.mkfifo(fifo)
    path = tmp_path / "doc.xml"
    path.write_bytes(_with_prolog("<!--" + "x" * 70_000 + f'--><!DOCTYPE r SYSTEM "{fifo.as_uri()}">'))
    done = subprocess.run(
        [sys.executable, "-m", "s1sr", "validate", str(path)], capture_output=True, text=True, cwd=REPO, timeout=60
    )
    assert done.returncode == 2
    assert "document has a DOCTYPE" in done.stderr


# --- 3. The schema compiles offline, from its own folder -----------------------------------


@dataclass
class _Server:
    url: str
    hits: list[str]


@pytest.fixture
def http_server() -> Iterator[_Server]:
    """A local HTTP server that serves an empty schema and records every path asked for."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            body = b'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:other"/>'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield _Server(f"http://127.0.0.1:{server.server_address[1]}", hits)
    finally:
        server.shutdown()
        server.server_close()


def _schema(folder: Path, location: str) -> Path:
    """A small schema whose one element is an xs:int, importing ``location``."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "main.xsd"
    path.write_text(
        f"""<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:main" xmlns="urn:main"
           elementFormDefault="qualified">
  <xs:import namespace="urn:other" schemaLocation="{location}"/>
  <xs:element name="N" type="xs:int"/>
</xs:schema>
"""
    )
    return path


def _other(path: Path) -> None:
    path.write_text('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:other"/>')


def test_a_schema_importing_a_url_is_refused_and_nothing_is_fetched(tmp_path: Path, http_server: _Server) -> None:
    xsd = _schema(tmp_path / "schema", f"{http_server.url}/other.xsd")
    document = tmp_path / "bad.xml"
    document.write_text('<N xmlns="urn:main">twelve</N>')  # invalid, so the explainer would run
    for command in ("validate", "translate"):
        done = s1sr(command, "--xsd", str(xsd), str(document))
        assert done.returncode == 2, done.stdout + done.stderr
        assert done.stderr.strip().splitlines() == [
            f"s1sr: error: {xsd}: the schema imports '{http_server.url}/other.xsd', outside its folder; schemas"
            " are read offline, from their own folder only; put a copy of that file beside the schema and name"
            " it by a relative schemaLocation"
        ]
    assert http_server.hits == []


def test_a_schema_importing_a_file_outside_its_folder_is_refused(tmp_path: Path) -> None:
    _other(tmp_path / "outside.xsd")
    xsd = _schema(tmp_path / "schema", "../outside.xsd")
    document = tmp_path / "doc.xml"
    document.write_text('<N xmlns="urn:main">12</N>')
    done = s1sr("validate", "--xsd", str(xsd), str(document))
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"the schema imports '{(tmp_path / 'outside.xsd').as_uri()}', outside its folder" in done.stderr


def test_a_schema_importing_a_file_beside_it_compiles_and_explains(tmp_path: Path, http_server: _Server) -> None:
    """The control: the same schema with its import in its own folder works, and the explainer
    ignores a schema location that the instance itself names."""
    folder = tmp_path / "schema"
    xsd = _schema(folder, "other.xsd")
    _other(folder / "other.xsd")
    document = tmp_path / "bad.xml"
    document.write_text(
        '<N xmlns="urn:main" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        f' xsi:schemaLocation="urn:main {http_server.url}/hint.xsd">twelve</N>'
    )
    done = s1sr("validate", "--xsd", str(xsd), str(document))
    assert done.returncode == 1, done.stdout + done.stderr
    assert (
        "/N (line 1): N: 'twelve' is not a whole number; the schema allows a whole number from -2147483648 to "
        "2147483647" in done.stdout
    )
    assert http_server.hits == []


# --- 4. Explaining is bounded in time; every value echoed is cut short -------------------


@dataclass
class _Measured:
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float


def _measured(*args: str) -> _Measured:
    """``s1sr ARGS`` in a subprocess, with its own wall time and peak resident memory (Linux)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "s1sr", *args], stdout=out, stderr=err, cwd=REPO)
        watchdog = threading.Timer(120, process.kill)
        watchdog.start()
        try:
            _, status, usage = os.wait4(process.pid, 0)
        finally:
            watchdog.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        return _Measured(process.returncode, out.read().decode(), err.read().decode(), seconds, usage.ru_maxrss / 1024)


def _attributes(tmp_path: Path, count: int) -> Path:
    attributes = " ".join(f'a{i}="{i}"' for i in range(count))
    path = tmp_path / f"attributes-{count}.xml"
    path.write_bytes(_request("1200000").replace(b"<sr:PrepaymentMode>", f"<sr:PrepaymentMode {attributes}>".encode()))
    return path


@pytest.mark.parametrize("count", [8_000, 100_000])
def test_an_attribute_flood_is_explained_in_bounded_time(tmp_path: Path, count: int, duis_schema: object) -> None:
    path = _attributes(tmp_path, count)
    done = _measured("validate", str(path))
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines()[:2] == [
        f"INVALID  {path}",
        "         /sr:Request/sr:Body/sr:UpdateMeterBalance/sr:PrepaymentMode (line 11): Element"
        " 'sr:PrepaymentMode', attribute 'a0': The attribute 'a0' is not allowed.",
    ]
    assert len(done.stdout.splitlines()) == 7  # the file, five problems, the summary
    assert done.seconds < 10, done.seconds  # was 6 s for 8,000 and over 120 s for 200,000
    assert done.peak_mb < 400, done.peak_mb
    translated = _measured("translate", str(path))
    assert translated.returncode == 2 and len(translated.stderr.splitlines()) == 1, translated.stderr
    assert translated.seconds < 10


def test_a_document_with_more_attributes_than_the_limit_is_refused(tmp_path: Path) -> None:
    path = _attributes(tmp_path, 200_000)  # the 2.2 MB flood
    done = _measured("validate", str(path))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"s1sr: error: {path}: document has 200,001 attributes, over the limit of 150,000; this is not a DUIS message"
    )
    assert done.seconds < 10 and done.peak_mb < 400, (done.seconds, done.peak_mb)


def _siblings(count: int) -> bytes:
    return _request("1200000").replace(b"<sr:PrepaymentMode>", b"<sr:PrepaymentMode>" + b"<sr:X/>" * count)


def test_the_explainer_stops_at_its_element_budget(duis_schema: DuisSchema) -> None:
    """Up to EXPLAIN_MAX_ELEMENTS xmlschema explains; past it, libxml2's message stands in."""
    base = sum(1 for _ in parse_xml(_siblings(0)).iter())
    within = duis_schema.problems(parse_xml(_siblings(EXPLAIN_MAX_ELEMENTS - base)))
    assert within[0].message.startswith(
        "sr:PrepaymentMode: found sr:X where the schema expects sr:AdjustMeterBalance or sr:ResetMeterBalance"
    )
    beyond = duis_schema.problems(parse_xml(_siblings(EXPLAIN_MAX_ELEMENTS - base + 1)))
    assert beyond[0].message.startswith("Element 'sr:X': This element is not expected.")


def test_many_unexpected_siblings_are_explained_in_bounded_time(tmp_path: Path, duis_schema: object) -> None:
    path = tmp_path / "siblings.xml"
    path.write_bytes(_siblings(16_000))  # xmlschema took 2.7 s on these
    done = _measured("validate", str(path))
    assert done.returncode == 1, done.stderr
    assert done.seconds < 10, done.seconds


def test_an_over_long_firmware_image_is_not_echoed(tmp_path: Path, duis_schema: object) -> None:
    path = tmp_path / "firmware.xml"
    path.write_bytes(_firmware("00000101", "A" * 10_240_001))
    validated = _measured("validate", str(path))
    assert validated.returncode == 1, validated.stderr
    assert validated.stdout.splitlines()[1] == (
        "         /sr:Request/sr:Body/sr:UpdateFirmware/sr:FirmwareImage (line 11): Element 'sr:FirmwareImage': '"
        + "A" * 60
        + "…"
    )
    translated = _measured("translate", str(path))
    assert translated.returncode == 2
    [line] = translated.stderr.splitlines()
    assert line.startswith(f"s1sr: error: {path}: not valid DUIS: /sr:Request/sr:Body/sr:UpdateFirmware/sr:Firmware")
    for done in (validated, translated):
        assert len(done.stdout) + len(done.stderr) < 1_000  # was the 10 MB image
        assert done.peak_mb < 400, done.peak_mb  # was 1.9 GB
        assert done.seconds < 10


def test_an_image_over_the_duis_maximum_is_refused_by_the_s1sp_in_one_short_line() -> None:
    image = base64.b64encode(b"\0" * 7_680_003).decode()  # 10,240,004 characters, valid base64
    with pytest.raises(S1srError) as caught:
        parse_request(parse_xml(_firmware("00000101", image)))
    assert caught.value.line().endswith(
        "sr:Body/sr:UpdateFirmware: FirmwareImage has 10,240,004 base64 characters, over the DUIS maximum of 10,240,000"
    )


def test_a_long_number_is_cut_in_every_message(duis_schema: DuisSchema) -> None:
    root = parse_xml(_request("9" * 5_000))
    with pytest.raises(S1srError) as caught:
        parse_request(root)
    assert caught.value.line().endswith(
        f"sr:AdjustMeterBalance {'9' * 60}… (5,000 characters) is outside its DUIS range -2147483648..2147483647"
    )
    [problem] = duis_schema.problems(root)
    assert len(str(problem)) < 400


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("x" * 60, "x" * 60),
        ("x" * 61, "x" * 60 + "… (61 characters)"),
        ("x" * 10_240_001, "x" * 60 + "… (10,240,001 characters)"),
        ("a\nb\u00a0c", "a\\nb\\xa0c"),  # on one line, the invisible made visible
    ],
)
def test_values_are_shown_up_to_sixty_characters(value: str, shown: str) -> None:
    assert shorten(value) == shown


def test_a_library_message_is_one_line_with_its_values_cut() -> None:
    message = "Element 'sr:X': '" + "A" * 100 + "' is not\na valid value."
    assert readable(message) == "Element 'sr:X': '" + "A" * 60 + "… (100 characters)' is not a valid value."
    cut_by_libxml2 = "Element 'sr:FirmwareImage': '" + "A" * 63_000
    assert readable(cut_by_libxml2) == "Element 'sr:FirmwareImage': '" + "A" * 60 + "…"


# --- Limits that stay: nesting and attributes, at their boundaries -------------------------


def test_nesting_to_the_limit_is_accepted_and_one_level_more_refused() -> None:
    assert parse_xml(b"<a>" * MAX_DEPTH + b"</a>" * MAX_DEPTH).tag == "a"
    with pytest.raises(S1srError) as caught:
        parse_xml(b"<a>\n" * (MAX_DEPTH + 1) + b"</a>" * (MAX_DEPTH + 1))
    assert "elements nest deeper than 64 levels (line 65)" in caught.value.line()


def test_attributes_to_the_limit_are_accepted_and_one_more_refused() -> None:
    per_element = 1_000
    element = b"<b " + b" ".join(b'a%d=""' % i for i in range(per_element)) + b"/>"
    full = element * (MAX_ATTRIBUTES // per_element)
    assert len(parse_xml(b"<a>" + full + b"</a>")) == MAX_ATTRIBUTES // per_element
    with pytest.raises(S1srError) as caught:
        parse_xml(b'<a x="">' + full + b"</a>")
    assert "document has 150,001 attributes, over the limit of 150,000" in caught.value.line()
