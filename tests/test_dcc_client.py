"""A DUIS User's client built only from DCC's parts, against ``s1sr serve-s1sp --dcc-boxed-keys``.

The client (tests/dcc_parts.py) is what a supplier's adapter built for DCC Boxed is made of: DCC's signing
tool signs each RTDS request as the DCC Boxed test User and validates every reply with its built-in key
store; DCC's ``duis-parser`` reads the messages and names the web service of each request's Command
Variant. For every RTDS request (66) of every SRV the reference S1SP handles, the endpoint acknowledges
``I99`` (the non-device 11.1: ``I0`` at once) and delivers an ``I0`` response for that RequestID; every
message verifies with DCC Boxed's keys. The one RTDS request for local delivery (Command Variant 2), which
the endpoint does not serve, is refused ``E12`` and not executed. A request altered after signing and a
replayed one are refused ``E1`` and not executed.

Where DCC's ``Validate`` cannot speak, the test says so: it passes a response holding two signatures
(the DUIS signature and the S1SP's inside the SMETS1 Response) unchecked, so the DUIS signature of those is
checked by Validate's own steps (tests/dcc_client/EnvelopeCheck.java) and the SMETS1 Response by
``Validate`` taken out as its own document. Skipped when the parts are missing, unless
``S1SR_REQUIRE_INTEROP=1`` (CI), which makes their absence a failure.
"""

from __future__ import annotations

import os
import re
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from s1sr.duis.request import SRV_BODIES
from s1sr.duis.schema import DuisSchema
from tests.conftest import REPO
from tests.dcc_parts import DccParts, ResponseInbox, counter_of, find_parts
from tests.duis_rig import RTDS_METERS, XSD, make_user, write_pair

USER = "90-b3-d5-1f-30-01-00-00"  # DCC Boxed's test User, as duis-parser writes EUIs
NETWORK_OPERATOR = "90-b3-d5-1f-30-02-00-00"  # DCC Boxed's networkOperator, the User of some RTDS reads
DSP_SERIAL = "167048897159233642262001557408276884033"  # dsp-xml-sign-90B3D51F30000002-ds in DCC's key store
#: DCC Boxed's web services by the name duis-parser gives a Command Variant's service (dccboxed-nodered-nodes).
SERVICE_PATH = {
    "Non-Device Service": "/api/v1/serviceD",
    "Send Command Service": "/api/v1/serviceS",
    "Transform Service": "/api/v1/serviceT",
}
#: Per SRV the reference S1SP handles: how many RTDS requests there are for it, the web service its Command
#: Variant names, and the synchronous answer (a device request is acknowledged; 11.1, non-device, answered).
EXPECTED = {
    "1.5": (6, "/api/v1/serviceT", "I99"),
    "1.6": (12, "/api/v1/serviceT", "I99"),
    "2.1": (9, "/api/v1/serviceT", "I99"),
    "2.5": (2, "/api/v1/serviceT", "I99"),
    "4.1.1": (6, "/api/v1/serviceS", "I99"),
    "4.2": (1, "/api/v1/serviceS", "I99"),
    "4.3": (4, "/api/v1/serviceS", "I99"),
    "4.8.1": (3, "/api/v1/serviceS", "I99"),
    "4.8.3": (1, "/api/v1/serviceS", "I99"),
    "4.10": (3, "/api/v1/serviceS", "I99"),
    "4.13": (3, "/api/v1/serviceS", "I99"),
    "4.17": (2, "/api/v1/serviceS", "I99"),
    "4.18": (5, "/api/v1/serviceS", "I99"),
    "6.4.1": (3, "/api/v1/serviceT", "I99"),
    "8.11": (2, "/api/v1/serviceS", "I99"),
    "11.1": (1, "/api/v1/serviceD", "I0"),
    "11.3": (3, "/api/v1/serviceT", "I99"),
}
_SRV = re.compile(rb"<sr:ServiceReferenceVariant>([^<]+)</sr:ServiceReferenceVariant>")
#: Command Variants asking for local delivery of the response, which the endpoint does not serve.
_LOCAL_DELIVERY = re.compile(rb"<sr:CommandVariant>[2367]</sr:CommandVariant>")
#: The one RTDS request of a handled SRV that asks for local delivery (Command Variant 2).
LOCAL_TEMPLATE = "ECS17b_4.1.1_REQUEST_DUIS.XML"
SKIPPED = "[I] response without signature, validation check skipped"  # DCC's Validate, on two signatures


@pytest.fixture(scope="module")
def parts() -> DccParts:
    """DCC's parts; their absence fails the test when S1SR_REQUIRE_INTEROP=1, else skips it."""
    found = find_parts()
    if isinstance(found, str):
        if os.environ.get("S1SR_REQUIRE_INTEROP") == "1":
            pytest.fail(f"S1SR_REQUIRE_INTEROP=1 but {found}")
        pytest.skip(found)
    return found


@dataclass
class Served:
    """``s1sr serve-s1sp`` in DCC Boxed mode, its User's response endpoint, the S1SP's certificate, its log."""

    url: str
    inbox: ResponseInbox
    s1sp_cert: Path
    log: Path

    def logged(self, text: str, count: int, timeout_s: float = 5.0) -> list[str]:
        """The log lines holding ``text``, once there are ``count`` (a line follows its exchange)."""
        deadline = time.monotonic() + timeout_s
        while True:
            found = [line for line in self.log.read_text().splitlines() if text in line]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)

    def post(self, path: str, body: bytes) -> httpx.Response:
        """One request, as DCC Boxed's clients post it."""
        return httpx.post(self.url + path, content=body, headers={"Content-Type": "application/xml"}, timeout=30)


@pytest.fixture(scope="module")
def served(parts: DccParts, duis_schema: DuisSchema, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The command as a supplier runs it: DCC Boxed's key store, the RTDS meters, responses to the inbox."""
    folder = tmp_path_factory.mktemp("dcc-client")
    key, cert = write_pair(make_user(None, "S1SP under test"), folder, "s1sp")
    with ResponseInbox() as inbox:
        command = [
            sys.executable, "-m", "s1sr", "serve-s1sp", "--port", "0", "--dcc-boxed-keys",
            "--dcc-boxed-keystore", str(parts.tool.keystore), "--response-url", inbox.url,
            "--signing-key", str(key), "--signing-cert", str(cert), "--xsd", str(XSD),
            *(arg for meter in RTDS_METERS for arg in ("--meter-id", meter)),
        ]  # fmt: skip
        log = folder / "serve-s1sp.log"
        with log.open("w") as stderr:  # a file, not a pipe: a long log must never block the server
            process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=stderr, text=True)
        try:
            first = _first_line(process, timeout_s=60)
            found = re.match(r"serving DUIS on (http://127\.0\.0\.1:\d+)/api/v1/", first)
            assert found, first + log.read_text()[-3000:]
            yield Served(found.group(1), inbox, cert, log)
        finally:
            process.send_signal(signal.SIGINT)
            process.communicate(timeout=20)
            assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


def _first_line(process: subprocess.Popen[str], timeout_s: float) -> str:
    """The process's first line of output, within ``timeout_s`` (empty if it ended or stayed silent)."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        return process.stdout.readline() if selector.select(timeout_s) else ""


@dataclass
class Exchanges:
    """What the client sent and got, request by request (RTDS name order, which is counter order).

    ``srvs``: each request's SRV; ``views``: duis-parser's reading of each signed request; ``replies``:
    the endpoint's synchronous answer to each; ``responses``: what reached the User's response endpoint.
    """

    srvs: list[str]
    requests: list[bytes]
    views: list[dict[str, Any]]
    replies: list[httpx.Response]
    responses: list[bytes]


@pytest.fixture(scope="module")
def exchanges(parts: DccParts, served: Served, rtds_files: list[Path]) -> Exchanges:
    """Every RTDS request of an SRV the reference S1SP handles, signed by DCC's Sign, posted where duis-parser
    routes its Command Variant; then the asynchronous responses, once all have come (or 60 s)."""
    templates = [(xml, _SRV.search(xml)) for xml in (path.read_bytes() for path in rtds_files)]
    chosen = [
        (xml, m.group(1).decode())
        for xml, m in templates
        if m and m.group(1).decode() in SRV_BODIES and not _LOCAL_DELIVERY.search(xml)
    ]
    requests = parts.sign_rising([xml for xml, _ in chosen])
    views = parts.parse(requests)
    replies = [served.post(SERVICE_PATH[v["webService"]], xml) for v, xml in zip(views, requests, strict=True)]
    device = sum(1 for _, srv in chosen if srv != "11.1")
    responses = served.inbox.wait_for(device, timeout_s=60)
    return Exchanges([srv for _, srv in chosen], requests, views, replies, responses)


def test_every_srv_the_reference_s1sp_handles_is_sent_all_its_rtds_requests_routed_by_duis_parser(
    exchanges: Exchanges,
) -> None:
    assert set(SRV_BODIES) == set(EXPECTED)
    assert {srv: exchanges.srvs.count(srv) for srv in EXPECTED} == {srv: n for srv, (n, *_) in EXPECTED.items()}
    assert len(exchanges.requests) == 66
    counters = [counter_of(request) for request in exchanges.requests]
    assert counters == sorted(set(counters))  # DCC's Sign stamped them with the time: rising
    assert counters[0] > 1_700_000_000_000  # milliseconds since 1970, not the templates' own counters
    assert [(v["type"], v["serviceReferenceVariant"], SERVICE_PATH[v["webService"]]) for v in exchanges.views] == [
        ("request", srv, EXPECTED[srv][1]) for srv in exchanges.srvs
    ]
    # The RTDS Users: the supplier, and the network operator of the 4.1.1 (twin), 4.2 and 4.8.3 reads.
    assert {v["requestId"].split(":")[0] for v in exchanges.views} == {USER, NETWORK_OPERATOR}
    assert {v["parser"] for v in exchanges.views} == {"0.6.0"}  # the duis-parser .ci/run installs


def test_every_reply_is_i99_or_the_non_device_i0_and_passes_dccs_validate(
    parts: DccParts, exchanges: Exchanges
) -> None:
    replies = exchanges.replies
    assert [(r.status_code, r.headers["content-type"]) for r in replies] == [(200, "application/xml")] * 66
    read = parts.parse([r.content for r in replies])
    assert [(v["type"], v["responseCode"], v["serviceReferenceVariant"]) for v in read] == [
        ("response", EXPECTED[srv][2], srv) for srv in exchanges.srvs
    ]
    assert [v["requestId"] for v in read] == [v["requestId"] for v in exchanges.views]
    assert [v["bodyKinds"] for v in read] == [
        ["SMETS1ResponseMessage"] if srv == "11.1" else ["ResponseMessage"] for srv in exchanges.srvs
    ]
    verdicts = parts.tool.validate([r.content for r in replies], None)  # DCC's built-in key store
    assert [(v.code, v.log.splitlines()[-1]) for v in verdicts] == [
        (0, SKIPPED if srv == "11.1" else "[I] passed signature check") for srv in exchanges.srvs
    ]
    acknowledgements = [v for v, srv in zip(verdicts, exchanges.srvs, strict=True) if srv != "11.1"]
    assert len(acknowledgements) == 65
    assert all(f"certificate serial number: {DSP_SERIAL}" in v.log for v in acknowledgements)


def test_every_acknowledged_request_gets_an_i0_response_duis_parser_reads_for_its_request_id(
    parts: DccParts, exchanges: Exchanges
) -> None:
    assert len(exchanges.responses) == 65
    read = {v["requestId"]: v for v in parts.parse(exchanges.responses)}
    expected = {
        view["requestId"]: srv for view, srv in zip(exchanges.views, exchanges.srvs, strict=True) if srv != "11.1"
    }
    assert len(expected) == 65
    assert {rid: (v["type"], v["responseCode"], v["serviceReferenceVariant"]) for rid, v in read.items()} == {
        rid: ("response", "I0", srv) for rid, srv in expected.items()
    }
    for rid, view in read.items():
        originator, target, counter = rid.split(":")
        assert view["responseId"] == f"{target}:{originator}:{counter}"
        # DUIS's body for a SMETS1 Response; duis-parser 0.6.0 reads it, but its type guards know only
        # SMETS2's bodies (ResponseMessage, DeviceAlertMessage, DCCAlertMessage).
        assert (view["bodyKinds"], view["isResponse"], view["isResponseMessage"]) == (
            ["SMETS1ResponseMessage"],
            False,
            False,
        )


def _taken_out(message: bytes) -> bytes:
    """The SMETS1SignedResponse of a DUIS response as a document of its own, as a User takes it out."""
    root = etree.fromstring(message, etree.XMLParser(resolve_entities=False, no_network=True))
    inner = root.find(".//{http://www.dccinterface.co.uk/ServiceUserGateway}SMETS1SignedResponse")
    assert inner is not None
    return bytes(etree.tostring(inner))


def _altered(message: bytes) -> bytes:
    """The message with its first number in the ResponseAndAlert namespace changed (a 1 put in front)."""
    return re.sub(rb"(<ra:\w+>)(\d+)<", lambda m: m.group(1) + b"1" + m.group(2) + b"<", message, count=1)


def test_every_response_verifies_with_dcc_boxeds_dsp_key_and_its_smets1_response_with_the_s1sps(
    parts: DccParts, served: Served, exchanges: Exchanges
) -> None:
    [firmware] = [r.content for r, srv in zip(exchanges.replies, exchanges.srvs, strict=True) if srv == "11.1"]
    carried = [*exchanges.responses, firmware]  # every message carrying a SMETS1 Response
    altered = [_altered(message) for message in carried]
    assert len(carried) == 66 and all(a != m for a, m in zip(altered, carried, strict=True))
    # DCC's Validate passes a message holding two signatures unchecked: even an altered one.
    verdicts = parts.tool.validate([*carried, *altered], None)
    assert [(v.code, v.log.splitlines()[-1]) for v in verdicts] == [(0, SKIPPED)] * 132
    # Validate's own steps on the DUIS signature: DCC Boxed's DSP key, from DCC's key store.
    assert parts.check_envelopes([*carried, *altered]) == [
        *[(0, f"passed signature check: certificate {DSP_SERIAL}")] * 66,
        *[(10, "failed signature check: digest mismatch")] * 66,
    ]
    # The SMETS1 Response taken out: the S1SP's signature, in DCC's Validate given the S1SP's certificate.
    inner = [_taken_out(message) for message in (*carried, *altered)]
    verdicts = parts.tool.validate(inner, served.s1sp_cert.read_bytes())
    assert [(v.code, v.log.splitlines()[-1]) for v in verdicts] == [
        *[(0, "[I] passed signature check")] * 66,
        *[(10, "[I] failed signature check")] * 66,
    ]


TAMPERED_REFUSAL = "the User's signature is refused: digest mismatch: the signed content was altered"


def test_a_request_altered_after_signing_and_a_replayed_one_are_refused_e1_and_not_executed(
    parts: DccParts, served: Served, exchanges: Exchanges, rtds_files: list[Path]
) -> None:
    [template] = [path for path in rtds_files if path.name == "ECS04a_1.5_SUCCESS_REQUEST_DUIS.XML"]
    [request] = parts.sign_rising([template.read_bytes()])
    counter = counter_of(request)
    assert counter > counter_of(exchanges.requests[-1])
    tampered = request.replace(b"<sr:AdjustMeterBalance>1200000<", b"<sr:AdjustMeterBalance>9900000<")
    assert tampered != request
    refused = served.post("/api/v1/serviceT", tampered)
    accepted = served.post("/api/v1/serviceT", request)  # the altered copy did not use up the counter
    replayed = served.post("/api/v1/serviceT", request)
    responses = served.inbox.wait_for(66, timeout_s=30)
    answers = [refused, accepted, replayed]
    assert [a.status_code for a in answers] == [200, 200, 200]  # DUIS refusals are DUIS documents
    assert refused.headers["S1SR-Refusal"] == TAMPERED_REFUSAL
    assert replayed.headers["S1SR-Refusal"] == (
        f"originator counter {counter} of User 90-B3-D5-1F-30-01-00-00 is not above the last accepted ({counter}):"
        " a replayed or reordered request"
    )
    read = parts.parse([a.content for a in answers])
    [rid] = {v["requestId"] for v in parts.parse([request])}
    assert [(v["responseCode"], v["requestId"], v["bodyKinds"]) for v in read] == [
        ("E1", rid, ["ResponseMessage"]),
        ("I99", rid, ["ResponseMessage"]),
        ("E1", rid, ["ResponseMessage"]),
    ]
    verdicts = parts.tool.validate([a.content for a in answers], None)
    assert [(v.code, v.log.splitlines()[-1]) for v in verdicts] == [(0, "[I] passed signature check")] * 3
    # One response more, the accepted request's: neither the altered copy nor the replay was executed.
    assert len(responses) == 66
    [last] = parts.parse(responses[65:])
    assert (last["requestId"], last["responseCode"]) == (rid, "I0")
    assert served.inbox.wait_for(67, timeout_s=1.0) == responses
    # One log line per exchange, the refusals with their reason.
    exchanges_logged = served.logged(f":{counter} SRV 1.5 ", 3)
    assert [line.split('"POST /api/v1/serviceT" ')[1].split(" ")[:2] for line in exchanges_logged] == [
        ["200", "E1"],
        ["200", "I99"],
        ["200", "E1"],
    ]
    assert exchanges_logged[0].endswith(f" ms ({TAMPERED_REFUSAL})")
    assert exchanges_logged[2].endswith(" ms (" + replayed.headers["S1SR-Refusal"] + ")")


def test_the_request_for_local_delivery_is_refused_e12_and_not_executed(
    parts: DccParts, served: Served, exchanges: Exchanges, rtds_files: list[Path]
) -> None:
    handled = [(path, path.read_bytes()) for path in rtds_files]
    handled = [(path, xml) for path, xml in handled if (m := _SRV.search(xml)) and m.group(1).decode() in SRV_BODIES]
    assert [path.name for path, xml in handled if _LOCAL_DELIVERY.search(xml)] == [LOCAL_TEMPLATE]
    [template] = [path for path in rtds_files if path.name == LOCAL_TEMPLATE]
    [request] = parts.sign_rising([template.read_bytes()])
    [view] = parts.parse([request])
    answer = served.post(SERVICE_PATH[view["webService"]], request)
    [read] = parts.parse([answer.content])
    assert (answer.status_code, read["responseCode"], read["requestId"]) == (200, "E12", view["requestId"])
    assert answer.headers["S1SR-Refusal"] == (
        "CommandVariant 2 (local delivery) is not served: the S1SP answers CommandVariant 1, 4 and 8"
    )
    before = len(served.inbox.wait_for(0, timeout_s=0.1))
    assert len(served.inbox.wait_for(before + 1, timeout_s=1.0)) == before  # no response: nothing was executed


def test_the_response_inbox_takes_only_bounded_xml_posts_to_its_path() -> None:
    with ResponseInbox(max_bytes=10, max_messages=1) as inbox:
        base = inbox.url.removesuffix("/duis/response")

        def post(path: str, body: bytes, content_type: str = "application/xml") -> int:
            return httpx.post(base + path, content=body, headers={"Content-Type": content_type}, timeout=5).status_code

        answers = [
            post("/duis/response", b"<x/>", "text/plain"),
            post("/elsewhere", b"<x/>"),
            post("/duis/response", b"<x>1234</x>"),  # 11 bytes: over the 10
            post("/duis/response", b"<x>123</x>"),  # 10 bytes: kept
            post("/duis/response", b"<y/>"),  # one message kept already
        ]
        assert answers == [415, 404, 413, 204, 503]
        assert inbox.wait_for(1, timeout_s=0.1) == [b"<x>123</x>"]
