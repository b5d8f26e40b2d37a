"""``s1sr serve-s1sp`` and the DUIS User's client, end to end over loopback.

The served reference S1SP answers the RTDS requests of every SRV it handles as ``s1sr
translate`` does, through DCC Boxed's transport: device requests acknowledged ``I99`` then
answered by a POST to the User's response endpoint, the non-device one answered ``I0`` at
once, every message signed and valid against the official DUIS schema. Requests tampered
after signing, replayed, signed by an unknown User or posted to the wrong service are
refused as DUIS refuses them; an endpoint that never answers is a DuisTimeout in bounded time.
"""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

from s1sr import __version__
from s1sr.devices.adapter import DeviceError
from s1sr.duis.request import RequestId
from s1sr.duis.response import SMETS1Response, build_response, parse_response
from s1sr.duis.safe_xml import parse_xml
from s1sr.duis.schema import DuisSchema
from s1sr.duis.signing import Credentials, SignatureCheck
from s1sr.duis_http.client import (
    ClientSettings,
    DuisClient,
    DuisRejected,
    DuisSignatureError,
    DuisTimeout,
    DuisTransportError,
)
from s1sr.duis_http.delivery import Deliverer, DeliveryPolicy
from s1sr.duis_http.envelope import sign_envelope, verify_envelope
from s1sr.duis_http.listener import ResponseListener
from s1sr.duis_http.server import ServerLimits
from s1sr.duis_http.services import (
    COMMAND_VARIANT_SERVICE,
    REFUSAL_HEADER,
    Service,
    command_variant_for,
    response_code_of,
)
from s1sr.duis_http.target import DuisTarget
from s1sr.duis_http.trust import eui_of, load_dcc_boxed_keys, read_certificates, user_certificates
from s1sr.errors import ConfigError
from s1sr.s1sp.api import RequestRefused
from s1sr.translate import translate_file
from tests.conftest import REPO, RTDS
from tests.duis_rig import (
    OTHER_USER,
    USER,
    XSD,
    Rig,
    free_port,
    make_user,
    rig,
    rtds,
    signed,
    with_counter,
    write_pair,
)

EXCHANGE_LINE = re.compile(
    r"^s1sr-duis \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ 127\.0\.0\.1:\d+"
    r' "POST (\S+)" (\d{3}) (\S+) (\S+)( SRV \S+)? \d+\.\d ms'
)


@pytest.fixture(scope="module")
def user() -> Credentials:
    """The RTDS test User's stand-in: its EUI in the certificate subject, as SMKI certificates carry it."""
    return make_user(USER, "test User 90-B3-D5-1F-30-01-00-00")


@pytest.fixture(scope="module")
def shared(user: Credentials, tmp_path_factory: pytest.TempPathFactory, duis_schema: DuisSchema) -> Iterator[Rig]:
    """One served S1SP for the refusal tests (each uses counters of its own)."""
    with rig(user, tmp_path_factory.mktemp("rig")) as served:
        yield served


def _code(response: httpx.Response) -> str:
    return response_code_of(parse_xml(response.content))


# --- the RTDS requests, one SRV each, as s1sr translate answers them ---------------------------

CREDIT_MODE = {"Electricity/PaymentMode": "Credit", "DisablementThreshold": 0}
# file, service posted to, answered at once (non-device), success, values read back (literal)
RTDS_CASES = [
    ("ECS82_4.18_SUCCESS_REQUEST_DUIS.XML", Service.SEND_COMMAND, False, True, {"MeterBalance": 0}),
    ("ECS04a_1.5_SUCCESS_REQUEST_DUIS.XML", Service.TRANSFORM, False, True, {}),
    ("ECS03_1.6_IMMEDIATE_SINGLE_SUCCESS_REQUEST_DUIS.XML", Service.TRANSFORM, False, True, {}),
    ("ECS08_2.1_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML", Service.TRANSFORM, False, True, {}),
    ("ECS09_2.5_SUCCESS_REQUEST_DUIS.XML", Service.TRANSFORM, False, False, {}),
    ("ECS19_4.3_SUCCESS_REQUEST_DUIS.XML", Service.SEND_COMMAND, False, True, {"EmergencyCreditBalance": 0}),
    ("ECS26a_4.13_SINGLE_SUCCESS_REQUEST_DUIS.XML", Service.SEND_COMMAND, False, True, CREDIT_MODE),
    ("ECS28a_6.4.1_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML", Service.TRANSFORM, False, True, {}),
    ("CCS01_8.11_SUCCESS_REQUEST_DUIS.XML", Service.SEND_COMMAND, False, True, {}),
    ("11.1_UPDATE_FIRMWARE_REQUEST_DUIS.XML", Service.NON_DEVICE, True, True, {}),
    ("CS06_11.3_IMMEDIATE_SUCCESS_REQUEST_DUIS.XML", Service.TRANSFORM, False, False, {}),
]  # fmt: skip


@pytest.mark.parametrize(("name", "service", "synchronous", "success", "values"), RTDS_CASES)
def test_each_rtds_request_is_answered_over_duis_as_translate_answers_it(
    name: str,
    service: Service,
    synchronous: bool,
    success: bool,
    values: dict[str, object],
    user: Credentials,
    tmp_path: Path,
    duis_schema: DuisSchema,
) -> None:
    with rig(user, tmp_path) as served:
        result = served.client.send(rtds(name))
        deliveries = served.deliveries(0 if synchronous else 1)
        _logged(served.log, f'"POST {service.path}"')  # the server logs an exchange just after answering it
        log = served.lines()
    assert result.service is service
    assert result.response_code == "I0"
    assert result.schema_problems == ()
    if synchronous:
        assert result.acknowledgement_xml is None
    else:
        assert result.acknowledgement_xml is not None
        ack = parse_xml(result.acknowledgement_xml)
        assert response_code_of(ack) == "I99"
        assert duis_schema.problems(ack) == []
        assert verify_envelope(ack, served.served.certificates()).valid
    read = parse_response(parse_xml(result.response_xml), served.served.s1sp_credentials.cert_pem)
    assert read.signature.valid, read.signature.reason
    assert duis_schema.problems(parse_xml(result.response_xml)) == []
    assert read.response.success is success
    assert {key: read.response.values[key] for key in values} == values
    translated = translate_file(RTDS / name, "secure-esme", "4.3", str(XSD))
    assert read.response.request_id == translated.request.request_id
    assert read.response.success == translated.response.success
    assert read.response.values == translated.response.values
    assert read.response.outcomes == translated.response.outcomes
    # One exchange line, and for a device request one delivery line: delivered at the first attempt.
    exchanges = [line for line in log if EXCHANGE_LINE.match(line)]
    assert len(exchanges) == 1
    match = EXCHANGE_LINE.match(exchanges[0])
    assert match is not None
    assert match.group(1, 2, 3) == (service.path, "200", "I0" if synchronous else "I99")
    assert len(deliveries) == (0 if synchronous else 1)
    if deliveries:
        assert ": HTTP 204 " in deliveries[0] and deliveries[0].endswith("(attempt 1 of 3)")


def test_the_command_variant_table_is_dcc_boxeds() -> None:
    assert {cv: service.path for cv, service in COMMAND_VARIANT_SERVICE.items()} == {
        1: "/api/v1/serviceS",
        2: "/api/v1/serviceD",
        3: "/api/v1/serviceS",
        4: "/api/v1/serviceT",
        5: "/api/v1/serviceS",
        6: "/api/v1/serviceD",
        7: "/api/v1/serviceS",
        8: "/api/v1/serviceD",
    }
    assert [command_variant_for(srv) for srv in ("1.5", "1.6", "4.18", "8.11", "11.1", "11.3")] == [4, 4, 1, 1, 8, 4]


# --- refusals -----------------------------------------------------------------------------------


def test_a_request_tampered_after_signing_is_refused_e1_and_not_executed(shared: Rig, user: Credentials) -> None:
    request = signed(with_counter(rtds("ECS04a_1.5_SUCCESS_REQUEST_DUIS.XML"), 2001), user)
    tampered = request.replace(b"<sr:AdjustMeterBalance>", b"<sr:AdjustMeterBalance>9")
    assert tampered != request
    before = shared.served.endpoint.s1sp.adapter.snapshot()  # type: ignore[attr-defined]
    answer = shared.post("/api/v1/serviceT", tampered)
    assert answer.status_code == 200
    assert _code(answer) == "E1"
    assert "digest mismatch" in answer.headers[REFUSAL_HEADER]
    assert verify_envelope(parse_xml(answer.content), shared.served.certificates()).valid
    assert shared.served.endpoint.s1sp.adapter.snapshot() == before  # type: ignore[attr-defined]
    # The tampered request did not consume its counter: the genuine one is still accepted.
    assert _code(shared.post("/api/v1/serviceT", request)) == "I99"


def test_a_replayed_or_lower_counter_is_refused_e1_and_a_higher_one_is_not(shared: Rig, user: Credentials) -> None:
    read = rtds("ECS82_4.18_SUCCESS_REQUEST_DUIS.XML")
    first = signed(with_counter(read, 3000), user)
    assert _code(shared.post("/api/v1/serviceS", first)) == "I99"
    replay = shared.post("/api/v1/serviceS", first)
    assert _code(replay) == "E1"
    assert replay.headers[REFUSAL_HEADER] == (
        "originator counter 3000 of User 90-B3-D5-1F-30-01-00-00 is not above the last accepted (3000):"
        " a replayed or reordered request"
    )
    assert _code(shared.post("/api/v1/serviceS", signed(with_counter(read, 2999), user))) == "E1"
    assert _code(shared.post("/api/v1/serviceS", signed(with_counter(read, 3001), user))) == "I99"


def test_a_request_signed_with_an_unknown_certificate_or_by_an_unknown_user_is_refused_e1(
    shared: Rig, user: Credentials
) -> None:
    impostor = make_user(USER, "same EUI, another key")
    read = rtds("ECS82_4.18_SUCCESS_REQUEST_DUIS.XML")
    answer = shared.post("/api/v1/serviceS", signed(with_counter(read, 4000), impostor))
    assert _code(answer) == "E1"
    assert answer.headers[REFUSAL_HEADER].startswith("the User's signature is refused: signature does not verify")
    stranger = shared.post("/api/v1/serviceS", signed(with_counter(read, 4001, OTHER_USER), user))
    assert _code(stranger) == "E1"
    assert stranger.headers[REFUSAL_HEADER] == "no certificate is configured for User 90-B3-D5-1F-30-03-00-00"
    unsigned = shared.post("/api/v1/serviceS", with_counter(read, 4002).split(b"<ds:Signature")[0] + b"</sr:Request>")
    assert _code(unsigned) == "E1"
    assert "no ds:Signature" in unsigned.headers[REFUSAL_HEADER]
    placeholder = shared.post("/api/v1/serviceS", with_counter(read, 4003))  # the RTDS template's own signature
    assert _code(placeholder) == "E1"


def test_a_request_posted_to_another_service_is_refused_e13(shared: Rig, user: Credentials) -> None:
    request = signed(with_counter(rtds("ECS82_4.18_SUCCESS_REQUEST_DUIS.XML"), 5000), user)
    answer = shared.post("/api/v1/serviceD", request)
    assert _code(answer) == "E13"
    assert answer.headers[REFUSAL_HEADER] == (
        "CommandVariant 1 is for the Send Command Service (/api/v1/serviceS), not /api/v1/serviceD"
    )


def test_a_command_variant_that_does_not_apply_is_refused_e12(shared: Rig, user: Credentials) -> None:
    read = rtds("ECS82_4.18_SUCCESS_REQUEST_DUIS.XML")
    as_transform = read.replace(b"<sr:CommandVariant>1<", b"<sr:CommandVariant>4<")
    answer = shared.post("/api/v1/serviceT", signed(with_counter(as_transform, 5100), user))
    assert _code(answer) == "E12"
    assert answer.headers[REFUSAL_HEADER] == (
        "CommandVariant 4 does not apply to SRV 4.18, a non-critical request: DUIS expects 1"
    )
    local = read.replace(b"<sr:CommandVariant>1<", b"<sr:CommandVariant>2<")
    assert _code(shared.post("/api/v1/serviceD", signed(with_counter(local, 5101), user))) == "E12"


@pytest.mark.parametrize(
    ("body", "content_type", "status", "reason"),
    [
        (b"<sr:Request", "application/xml", 400, "request: not well-formed XML"),
        (b'<!DOCTYPE x [<!ENTITY a "b">]><x/>', "application/xml", 400, "request: document has a DOCTYPE"),
        (b"<Request/>", "application/xml", 400, "the request is not valid DUIS"),
        (b"<x/>", "text/plain", 415, "a DUIS request is posted as Content-Type: application/xml, not 'text/plain'"),
    ],
)
def test_what_cannot_be_read_is_an_http_refusal_in_one_line(
    shared: Rig, body: bytes, content_type: str, status: int, reason: str
) -> None:
    answer = shared.post("/api/v1/serviceS", body, content_type)
    assert answer.status_code == status
    assert answer.text.startswith(reason)
    assert answer.text.count("\n") == 1
    assert answer.headers[REFUSAL_HEADER].startswith(reason)


def test_a_body_over_the_limit_is_refused_before_it_is_read_and_unknown_paths_are_404(shared: Rig) -> None:
    with socket.create_connection(("127.0.0.1", shared.server.port), timeout=5) as sock:
        head = (
            "POST /api/v1/serviceS HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/xml\r\n"
            f"Content-Length: {12 * 1024 * 1024 + 1}\r\n\r\n"
        )
        sock.sendall(head.encode())
        answer = sock.recv(4096).decode()
    assert answer.startswith("HTTP/1.1 413 ")
    assert "Content-Length 12582913 is over the limit of 12582912 bytes" in answer
    missing = shared.post("/api/v1/serviceX", b"<x/>")
    assert missing.status_code == 404
    assert missing.text.startswith("no POST /api/v1/serviceX: the DUIS services are POST /api/v1/serviceD")


def _answer_to(port: int, data: bytes) -> tuple[bytes, bytes]:
    """``data`` sent on a fresh connection; the head and body of the answer, read until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return head, body


def _logged(log: list[str], text: str) -> str:
    """The first log line holding ``text``, once written (the server logs just after it answers)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        found = [line for line in log if text in line]
        if found:
            return found[0]
        time.sleep(0.01)
    raise AssertionError(f"no log line holding {text!r} in {log}")


MALFORMED = b"POST /api/v1/serviceS HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: abc\r\n\r\n"


def test_the_endpoint_refuses_a_malformed_request_in_its_own_words_and_logs_it(shared: Rig) -> None:
    head, body = _answer_to(shared.server.port, MALFORMED)
    status, *headers = head.split(b"\r\n")
    assert status.startswith(b"HTTP/1.1 400 ")
    assert {
        b"s1sr-refusal: malformed HTTP request: bad Content-Length",
        b"content-type: text/plain; charset=utf-8",
    } <= set(headers)
    assert body == b"malformed HTTP request: bad Content-Length\n"
    line = _logged(shared.log, '"- -" 400')
    assert re.fullmatch(
        r's1sr-duis \S+ 127\.0\.0\.1:\d+ "- -" 400 - - \d+\.\d ms \(malformed HTTP request: bad Content-Length\)', line
    )
    assert shared.post("/api/v1/serviceX", b"<x/>").headers["server"] == "s1sr-duis/" + __version__


def test_the_response_listener_refuses_a_malformed_request_in_its_own_words() -> None:
    log: list[str] = []
    with ResponseListener(lambda body: None, log=log.append) as listener:
        port = int(listener.url.rsplit(":", 1)[1].split("/")[0])
        head, body = _answer_to(port, MALFORMED.replace(b"/api/v1/serviceS", b"/duis/response"))
        taken = httpx.post(listener.url, content=b"<x/>", headers={"Content-Type": "application/xml"}, timeout=5)
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"s1sr-refusal" not in head.lower()
    assert body == b"malformed HTTP request: bad Content-Length\n"
    assert re.fullmatch(
        r's1sr-duis-listener \S+ 127\.0\.0\.1:\d+ "- -" 400 \d+\.\d ms \(malformed HTTP request: bad Content-Length\)',
        _logged(log, '"- -" 400'),
    )
    assert (taken.status_code, taken.headers["server"]) == (204, "s1sr-duis-listener/" + __version__)
    assert re.fullmatch(r's1sr-duis-listener \S+ 127\.0\.0\.1:\d+ "POST /duis/response" 204 \d+\.\d ms', log[-1])


def test_every_exchange_leaves_one_log_line(user: Credentials, tmp_path: Path, duis_schema: DuisSchema) -> None:
    with rig(user, tmp_path) as served:
        read = rtds("ECS82_4.18_SUCCESS_REQUEST_DUIS.XML")
        served.client.send(with_counter(read, 10))
        served.post("/api/v1/serviceS", signed(with_counter(read, 10), user))  # a replay
        served.post("/api/v1/serviceS", b"<x", "application/xml")
        served.post("/api/v1/serviceQ", b"<x/>")
        _logged(served.log, '"POST /api/v1/serviceQ"')  # the server logs an exchange just after answering it
        exchanges = [line for line in served.lines() if " deliver " not in line]
    assert len(exchanges) == 4
    found = [EXCHANGE_LINE.match(line) for line in exchanges]
    assert all(found), exchanges
    assert [m.group(1, 2, 3) for m in found if m] == [
        ("/api/v1/serviceS", "200", "I99"),
        ("/api/v1/serviceS", "200", "E1"),
        ("/api/v1/serviceS", "400", "-"),
        ("/api/v1/serviceQ", "404", "-"),
    ]
    assert exchanges[1].endswith(
        "(originator counter 10 of User 90-B3-D5-1F-30-01-00-00 is not above the last accepted (10):"
        " a replayed or reordered request)"
    )


# --- the client: deadlines, signatures, delivery ---------------------------------------------------


class _Silent:
    """A TCP endpoint that accepts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(connection)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def close(self) -> None:
        self.sock.close()
        for connection in self.held:
            connection.close()


def test_an_endpoint_that_never_answers_is_a_duis_timeout_in_bounded_time(user: Credentials) -> None:
    silent = _Silent()
    settings = ClientSettings(url=silent.url, user=user, trust=(user.cert_pem,), response_timeout_s=1.0)
    try:
        with DuisClient(settings) as client:
            started = time.monotonic()
            with pytest.raises(
                DuisTimeout, match=r"^no reply from http://127\.0\.0\.1:\d+/api/v1/serviceS within 1 s$"
            ):
                client.send(rtds("ECS82_4.18_SUCCESS_REQUEST_DUIS.XML"))
            assert time.monotonic() - started < 3.0
    finally:
        silent.close()
    assert issubclass(DuisTimeout, DeviceError)  # so the harness reports it as error, never as a failure


def test_an_acknowledged_request_whose_response_never_comes_is_a_duis_timeout(
    user: Credentials, tmp_path: Path, duis_schema: DuisSchema
) -> None:
    silent = _Silent()
    policy = {"attempts": 2, "attempt_timeout_s": 0.3, "first_backoff_s": 0.1}
    try:
        with rig(user, tmp_path, response_timeout_s=1.0, deliver_to=silent.url + "/x", delivery=policy) as served:
            started = time.monotonic()
            with pytest.raises(DuisTimeout, match=r"was acknowledged \(I99\) but no response came to .* within 1 s$"):
                served.client.send(rtds("ECS82_4.18_SUCCESS_REQUEST_DUIS.XML"))
            assert time.monotonic() - started < 3.0
            deliveries = served.deliveries(2)
    finally:
        silent.close()
    assert len(deliveries) == 2
    assert "no answer within 0.3 s; retry in 0.1 s" in deliveries[0] and deliveries[0].endswith("(attempt 1 of 2)")
    assert "no answer within 0.3 s; given up" in deliveries[1] and deliveries[1].endswith("(attempt 2 of 2)")


def test_a_reply_no_trusted_certificate_verifies_is_a_signature_error(
    user: Credentials, tmp_path: Path, duis_schema: DuisSchema
) -> None:
    stranger = (make_user(None, "someone else").cert_pem,)
    with (
        rig(user, tmp_path, trust=stranger) as served,
        pytest.raises(DuisSignatureError, match=r"^the reply to .*: signature does not verify"),
    ):
        served.client.send(rtds("ECS82_4.18_SUCCESS_REQUEST_DUIS.XML"))


def test_a_refusal_reaches_the_client_with_its_code_and_reason(shared: Rig) -> None:
    request = with_counter(rtds("ECS82_4.18_SUCCESS_REQUEST_DUIS.XML"), 6000, OTHER_USER)
    with pytest.raises(DuisRejected) as refused:
        shared.client.send(request)
    assert refused.value.code == "E1"
    assert str(refused.value) == (
        "request 90-B3-D5-1F-30-03-00-00:00-DB-12-34-56-78-90-A0:6000 (SRV 4.18) refused: E1 (Failed Authorisation"
        " - Invalid User / User Role): no certificate is configured for User 90-B3-D5-1F-30-03-00-00"
    )


def test_the_client_refuses_to_send_a_counter_that_does_not_rise(shared: Rig) -> None:
    read = rtds("ECS82_4.18_SUCCESS_REQUEST_DUIS.XML")
    assert shared.client.send(with_counter(read, 7000)).response_code == "I0"
    with pytest.raises(DuisTransportError, match="counter 7000 is not above the last sent for User"):
        shared.client.send(with_counter(read, 7000))


class _Flaky(BaseHTTPRequestHandler):
    """Answers 503, then 204: a response endpoint that recovers."""

    calls: ClassVar[list[int]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        status = 503 if not self.calls else (418 if self.path == "/teapot" else 204)
        self.calls.append(status)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return None


def test_delivery_retries_a_5xx_and_gives_up_at_once_on_a_4xx() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    log: list[str] = []
    try:
        _Flaky.calls = []
        policy = DeliveryPolicy(base + "/ok", attempts=3, attempt_timeout_s=2.0, first_backoff_s=0.05)
        assert asyncio.run(Deliverer(policy, log.append).deliver(b"<x/>", "I0 rid")) is True
        assert _Flaky.calls == [503, 204]
        _Flaky.calls = [204]  # the next answer is the 4xx
        policy = DeliveryPolicy(base + "/teapot", attempts=3, attempt_timeout_s=2.0, first_backoff_s=0.05)
        assert asyncio.run(Deliverer(policy, log.append).deliver(b"<x/>", "I0 rid")) is False
        assert _Flaky.calls == [204, 418]
    finally:
        server.shutdown()
    assert [line.split(": ", 1)[1].rsplit(" ", 6)[0] for line in log] == [
        "HTTP 503; retry in 0.05 s",
        "HTTP 204",
        "HTTP 418: refused by the response endpoint, not retried",
    ]


def test_a_device_that_does_not_answer_is_e21_delivered_and_a_duis_timeout(
    user: Credentials, tmp_path: Path, duis_schema: DuisSchema
) -> None:
    with rig(user, tmp_path, adapter_options={"fault": "no-response"}, timeout_s=0.2) as served:
        with pytest.raises(DuisTimeout, match=r"\(SRV 4\.18\): E21, no response received from the device$"):
            served.client.send(rtds("ECS82_4.18_SUCCESS_REQUEST_DUIS.XML"))
        deliveries = served.deliveries(1)
    assert " deliver E21 90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1000 -> " in deliveries[0]


def test_an_s1sp_past_its_deadline_is_e21_and_the_next_request_waits_its_turn(
    user: Credentials, tmp_path: Path, duis_schema: DuisSchema
) -> None:
    slow = ServerLimits(execution_timeout_s=0.3)
    with rig(user, tmp_path, adapter_options={"latency_s": "0.6"}, limits=slow) as served:
        read = rtds("ECS82_4.18_SUCCESS_REQUEST_DUIS.XML")
        with pytest.raises(DuisTimeout, match="E21"):
            served.client.send(with_counter(read, 1))
        served.served.endpoint.s1sp.adapter.latency_s = 0.0  # type: ignore[attr-defined]
        assert served.client.send(with_counter(read, 2)).response_code == "I0"


def test_requests_beyond_those_in_hand_are_answered_503(
    user: Credentials, tmp_path: Path, duis_schema: DuisSchema
) -> None:
    with rig(user, tmp_path, limits=ServerLimits(max_pending=0)) as served:
        answer = served.post("/api/v1/serviceS", signed(rtds("ECS82_4.18_SUCCESS_REQUEST_DUIS.XML"), user))
    assert answer.status_code == 503
    assert answer.text == "busy: 0 requests are already in hand; try again shortly\n"


# --- the DUIS target: the harness's S1SP over DUIS --------------------------------------------------


def test_the_duis_target_answers_a_user_session_and_maps_refusals(
    user: Credentials, tmp_path: Path, duis_schema: DuisSchema
) -> None:
    from s1sr.duis.request import ReadMeterBalance, RequestId, ServiceRequest, build_request

    key, cert = write_pair(user, tmp_path, "target-user")
    port = free_port()
    with rig(user, tmp_path, deliver_to=f"http://127.0.0.1:{port}/duis/response") as served:
        trust = tmp_path / "trust.pem"
        trust.write_bytes(served.served.certificates_pem())
        target_class = DuisTarget.configure(
            schema=duis_schema,
            url=served.url,
            user_key=str(key),
            user_cert=str(cert),
            trust=str(trust),
            listen=f"127.0.0.1:{port}",
            response_timeout_s="5",
        )
        try:
            target = target_class.create(None, None, None, None, 30.0)  # type: ignore[arg-type]
            request = ServiceRequest(RequestId(USER, "00-DB-12-34-56-78-90-A0", 8000), "4.18", ReadMeterBalance())
            read = parse_response(
                parse_xml(target.respond(build_request(request))), served.served.s1sp_credentials.cert_pem
            )
            assert read.signature.valid
            assert read.response.values == {"MeterBalance": 0}
            assert target_class.create(None, None, None, None, 30.0).client is target.client  # type: ignore[arg-type]
            invalid = build_request(request).replace(b"8000", b"8001").replace(b"<sr:ReadMeterBalance/>", b"")
            with pytest.raises(RequestRefused, match="HTTP 400: the request is not valid DUIS"):
                target.respond(invalid)
        finally:
            target_class.shutdown()


def test_the_duis_target_refuses_a_wrong_option_in_one_line(user: Credentials, tmp_path: Path) -> None:
    key, cert = write_pair(user, tmp_path, "u")
    with pytest.raises(ConfigError) as wrong:
        DuisTarget.configure(url="ftp://x", user_key=str(key), user_cert=str(cert), trust=str(cert))
    assert wrong.value.line() == "--duis-url: 'ftp://x' is not an http(s) URL; e.g. http://127.0.0.1:8090/duis/response"
    with pytest.raises(ConfigError, match=r"^--target duis: the DUIS target needs --trust;"):
        DuisTarget.configure(url="http://127.0.0.1:1", user_key=str(key), user_cert=str(cert))


# --- User certificates and DCC Boxed's key store ---------------------------------------------------


def test_a_user_certificate_names_its_user_or_is_given_one(tmp_path: Path) -> None:
    _, named = write_pair(make_user(USER), tmp_path, "named")
    _, anonymous = write_pair(make_user(None), tmp_path, "anonymous")
    assert eui_of(read_certificates(named, "--user-cert")[0]) == "90-B3-D5-1F-30-01-00-00"
    assert [c.eui for c in user_certificates((str(named), f"90-b3-d5-1f-30-03-00-00={anonymous}"), ())] == [
        "90-B3-D5-1F-30-01-00-00",
        "90-B3-D5-1F-30-03-00-00",
    ]
    with pytest.raises(ConfigError) as refused:
        user_certificates((str(anonymous),), ())
    assert refused.value.line() == (
        f"--user-cert {anonymous}: a certificate names no User (no x500UniqueIdentifier in its subject);"
        " give it as --user-cert EUI=FILE"
    )


KEYSTORE = REPO / ".interop" / "node_modules" / "@smartdcc" / "dccboxed-keystore" / "keystore.json"


@pytest.fixture(scope="module")
def keystore() -> Path:
    """DCC Boxed's public key store (npm @smartdcc/dccboxed-keystore), installed by CI into .interop/."""
    if not KEYSTORE.is_file():
        install = f"npm install --prefix {REPO / '.interop'} @smartdcc/dccboxed-keystore"
        pytest.skip(f"DCC Boxed's key store is not installed: {install}")
    return KEYSTORE


def test_dcc_boxed_mode_takes_the_users_and_the_dsp_key_from_the_key_store(
    keystore: Path, tmp_path: Path, duis_schema: DuisSchema
) -> None:
    boxed = load_dcc_boxed_keys(keystore)
    assert boxed.dsp.source.startswith("dsp-xml-sign-90B3D51F30000002-ds from DCC Boxed key store")
    assert "90-B3-D5-1F-30-01-00-00" in {u.eui for u in boxed.users}
    assert "90-B3-D5-1F-30-00-00-02" not in {u.eui for u in boxed.users}  # the DCC's own keys are not a User's
    store = __import__("json").loads(keystore.read_text())
    entry = store["90b3d51f30010000"]["digitalSignature"]["27572613927499351639968579586655397031"]
    assert entry["name"] == "xml-sign-90B3D51F30010000-ds"
    boxed_user = Credentials(entry["privateKey"].encode(), entry["certificate"].encode(), "DCC Boxed test User")
    with rig(boxed_user, tmp_path, dcc_boxed_keys=True, dcc_boxed_keystore=str(keystore), user_certs=()) as served:
        result = served.client.send(with_counter(rtds("ECS82_4.18_SUCCESS_REQUEST_DUIS.XML"), 1_700_000_000_000))
    assert result.response_code == "I0"
    assert result.acknowledgement_xml is not None
    ack = parse_xml(result.acknowledgement_xml)
    assert verify_envelope(ack, (boxed.dsp.cert_pem,)).valid  # signed with the DSP's key...
    assert not verify_envelope(ack, (served.served.s1sp_credentials.cert_pem,)).valid  # ...not the S1SP's
    inner = parse_response(parse_xml(result.response_xml), served.served.s1sp_credentials.cert_pem)
    assert inner.signature.valid  # the SMETS1 Response stays the S1SP's


def test_dcc_boxed_keys_are_only_read_when_asked_for_by_name(user: Credentials, tmp_path: Path) -> None:
    from s1sr.duis_http.configure import ServeSettings, build

    _, cert = write_pair(user, tmp_path, "u")
    with pytest.raises(ConfigError) as refused:
        build(ServeSettings("http://127.0.0.1:9/r", user_certs=(str(cert),), dcc_boxed_keystore="keystore.json"))
    assert refused.value.line() == "--dcc-boxed-keystore: --dcc-boxed-keystore is only read with --dcc-boxed-keys"
    with pytest.raises(ConfigError, match=r"^--dcc-boxed-keystore / S1SR_DCC_BOXED_KEYSTORE: --dcc-boxed-keys needs"):
        build(ServeSettings("http://127.0.0.1:9/r", dcc_boxed_keys=True, dcc_boxed_keystore=None))


def test_dccs_own_signing_tool_signs_requests_serve_s1sp_accepts_and_validates_its_acknowledgement(
    keystore: Path, tmp_path: Path, duis_schema: DuisSchema
) -> None:
    from tests.dcc_tool import find_tool

    tool = find_tool()
    if isinstance(tool, str):
        pytest.skip(tool)
    boxed = load_dcc_boxed_keys(keystore)
    template = rtds("ECS82_4.18_SUCCESS_REQUEST_DUIS.XML").split(b"<ds:Signature")[0] + b"</sr:Request>\n"
    signed_by_dcc = tool.sign([template], preserve_counter=False)[0]
    assert signed_by_dcc.code == 0, signed_by_dcc.log
    anyone = make_user(None)
    with rig(anyone, tmp_path, dcc_boxed_keys=True, dcc_boxed_keystore=str(keystore), user_certs=()) as served:
        answer = served.post("/api/v1/serviceS", signed_by_dcc.out)
        assert _code(answer) == "I99", answer.headers.get(REFUSAL_HEADER)
        tampered = served.post(
            "/api/v1/serviceS", signed_by_dcc.out.replace(b"00-DB-12-34-56-78-90-A0", b"00-DB-12-34-56-78-90-A1")
        )
        assert _code(tampered) == "E1"
    assert verify_envelope(parse_xml(answer.content), (boxed.dsp.cert_pem,)).valid
    validated = tool.validate([answer.content], None)[0]  # DCC's tool, with its built-in key store
    assert validated.code == 0, validated.log
    assert "passed signature check" in validated.log


# --- the command ------------------------------------------------------------------------------------


def _serve(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "s1sr", "serve-s1sp", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_serve_s1sp_serves_until_interrupted_and_logs_each_exchange(user: Credentials, tmp_path: Path) -> None:
    _, cert = write_pair(user, tmp_path, "cli-user")
    port = free_port()
    out = tmp_path / "trust.pem"
    process = _serve(
        "--port", "0", "--response-url", f"http://127.0.0.1:{port}/duis/response", "--user-cert", str(cert),
        "--cert-out", str(out), "--xsd", str(XSD),
    )  # fmt: skip
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.match(r"serving DUIS on (http://127\.0\.0\.1:\d+)/api/v1/serviceD\|serviceS\|serviceT", first)
        assert match, first + (process.stderr.read() if process.stderr else "")
        settings = ClientSettings(
            url=match.group(1), user=user, trust=(out.read_bytes(),), listen_port=port, response_timeout_s=10
        )
        with DuisClient(settings) as client:
            result = client.send(rtds("ECS82_4.18_SUCCESS_REQUEST_DUIS.XML"))
        assert result.response_code == "I0" and result.acknowledgement_xml is not None
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    lines = err.splitlines()
    assert any(EXCHANGE_LINE.match(line) and '"POST /api/v1/serviceS" 200 I99' in line for line in lines), err
    assert any(" deliver I0 90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1000 -> " in line for line in lines), err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            (),
            "s1sr: error: --user-cert / --trust / --dcc-boxed-keys: no User certificate: every request would be"
            " refused;",
        ),
        (("--response-url", "ftp://x"), "s1sr: error: --response-url: 'ftp://x' is not an http(s) URL;"),
        (("--dcc-boxed-keys",), "s1sr: error: --dcc-boxed-keystore / S1SR_DCC_BOXED_KEYSTORE: --dcc-boxed-keys needs"),
        (("--user-cert", "missing.pem"), "s1sr: error: --user-cert missing.pem: no such file; check the path"),
    ],
)
def test_serve_s1sp_refuses_a_wrong_setting_in_one_line(args: tuple[str, ...], line: str) -> None:
    arguments = ("--response-url", "http://127.0.0.1:9/r", *args) if "--response-url" not in args else args
    env = {k: v for k, v in __import__("os").environ.items() if k != "S1SR_DCC_BOXED_KEYSTORE"}
    done = subprocess.run(
        [sys.executable, "-m", "s1sr", "serve-s1sp", "--port", "0", *arguments],
        cwd=REPO, capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.startswith(line), done.stderr
    assert done.stderr.count("\n") == 1
    assert done.stdout == ""


def test_the_help_says_the_dcc_boxed_keys_are_public_test_keys() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "s1sr", "serve-s1sp", "--help"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert "PUBLIC TEST KEYS" in " ".join(done.stdout.split())


def test_the_envelope_verifies_with_any_trusted_certificate_and_an_altered_message_says_so() -> None:
    s1sp, dsp, stranger = make_user(None, "S1SP"), make_user(None, "DSP"), make_user(None, "stranger")
    inner = SMETS1Response(RequestId(USER, "00-DB-12-34-56-78-90-A0", 1), "4.18", "4.18", True, {"MeterBalance": 5})
    message = sign_envelope(parse_xml(build_response(inner, s1sp)), dsp)
    assert len(re.findall(rb"<ds:Signature[ >]", message)) == 2  # the envelope's, and the S1SP's inside
    assert verify_envelope(parse_xml(message), (stranger.cert_pem, dsp.cert_pem)) == SignatureCheck(
        True, "ECDSA P-256/SHA-256 signature verifies"
    )
    for wrong in ((stranger.cert_pem,), (s1sp.cert_pem,)):  # the S1SP's key signed the inside, not the envelope
        assert verify_envelope(parse_xml(message), wrong).reason.startswith("signature does not verify:")
    altered = re.sub(rb"<ra:MeterBalance>(-?\d+)<", rb"<ra:MeterBalance>1\1<", message)
    assert altered != message
    assert verify_envelope(parse_xml(altered), (stranger.cert_pem, dsp.cert_pem)) == SignatureCheck(
        False, "digest mismatch: the signed content was altered"
    )
    assert verify_envelope(parse_xml(message), ()) == SignatureCheck(
        False, "no trusted certificate to check the DUIS signature with"
    )


def test_the_envelope_signature_covers_the_smets1_response_inside(shared: Rig) -> None:
    result = shared.client.send(with_counter(rtds("ECS82_4.18_SUCCESS_REQUEST_DUIS.XML"), 9000))
    trusted = shared.served.certificates()
    assert verify_envelope(parse_xml(result.response_xml), trusted).valid
    altered = re.sub(rb"<ra:MeterBalance>(-?\d+)<", rb"<ra:MeterBalance>1\1<", result.response_xml)
    assert altered != result.response_xml
    check = verify_envelope(parse_xml(altered), trusted)
    assert (check.valid, check.reason) == (False, "digest mismatch: the signed content was altered")
    resigned = sign_envelope(parse_xml(altered), shared.served.envelope_credentials)  # the envelope re-signed...
    assert verify_envelope(parse_xml(resigned), trusted).valid
    inner = parse_response(parse_xml(resigned), shared.served.s1sp_credentials.cert_pem)
    assert not inner.signature.valid  # ...still carries a SMETS1 Response whose own signature fails
