"""The device endpoint a lab can expose (``s1sr serve-device``) and the remote adapter that calls it.

Server: concurrent clients, a deadline on every request head and body, Content-Length and
every field checked, state bounded, every refusal a JSON answer naming the problem, a token,
no browser page, one access-log line per call, the OpenAPI document published as it is served.
Client: a deadline on every call, answers bounded in size, redirects refused, answers
shape-checked in one line naming the endpoint and the call, the token sent, connections reused.
All traffic stays on 127.0.0.1; every loop is bounded.
"""

from __future__ import annotations

import json
import os
import re
import select
import socket
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from s1sr.catalogue import DMC, find_dmc
from s1sr.devices import wire
from s1sr.devices.adapter import DeviceAdapter, DeviceFault, DeviceInfo, DeviceTimeout
from s1sr.devices.commands import ALL_COMMANDS, COMMANDS, HARNESS_COMMANDS, DeviceCommand, DeviceReply
from s1sr.devices.remote import RemoteAdapter
from s1sr.devices.server import DeviceServer, Limits, is_loopback, make_server
from s1sr.devices.simulated import SimulatedAdapter
from s1sr.errors import ConfigError
from tests.conftest import REPO, s1sr

HUB = "00-DB-12-34-56-78-90-A2"
METER = "00-DB-12-34-56-78-90-A0"
TOKEN = "lab-token-0123456789abcdef"
JOIN = {"joining_device": "00-DB-12-34-56-78-90-C1", "join_minutes": 2, "install_code": "3031", "join_method": "x"}
ACCESS_LINE = re.compile(
    r'^s1sr-device \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ 127\.0\.0\.1:\d+ "(\S+ \S+)" (\d{3}) \d+\.\d ms'
)


def _esme() -> DMC:
    return find_dmc("secure-esme")


# --- a served endpoint: in process (short limits) or as the command a lab runs --------------


@dataclass
class Served:
    """An in-process endpoint and its access log."""

    server: DeviceServer
    log: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def port(self) -> int:
        return self.server.port


def _serve(adapter: DeviceAdapter | None = None, token: str | None = None, **limits: Any) -> Served:
    log: list[str] = []
    server = make_server(
        adapter or SimulatedAdapter(_esme()), "127.0.0.1", 0, token=token, limits=Limits(**limits), log=log.append
    )
    return Served(server.start(), log)


def _logged(endpoint: Served, lines: int) -> list[str]:
    """The access log once it has ``lines`` lines (the server writes a line just after its answer)."""
    deadline = time.monotonic() + 5
    while len(endpoint.log) < lines and time.monotonic() < deadline:
        time.sleep(0.01)
    return endpoint.log


@pytest.fixture
def served() -> Iterator[Served]:
    endpoint = _serve(head_timeout_s=1.0, body_timeout_s=1.0, max_call_bytes=1000)
    yield endpoint
    endpoint.server.stop()


@dataclass
class Command:
    """``s1sr serve-device`` in a subprocess, its stderr in a file."""

    url: str
    port: int
    stderr: Path

    def log(self) -> str:
        return self.stderr.read_text()


def _serve_device(tmp: Path, *options: str, env: dict[str, str] | None = None) -> Iterator[Command]:
    stderr = tmp / "stderr.txt"
    with stderr.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "s1sr", "serve-device", "--dmc", "secure-esme", "--port", "0", *options],
            stdout=subprocess.PIPE, stderr=sink, text=True, cwd=REPO, env={**os.environ, **(env or {})},
        )  # fmt: skip
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split(" on ")[1].split()[0]
        yield Command(url, int(url.rsplit(":", 1)[1]), stderr)
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture(scope="module")
def command(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Command]:
    yield from _serve_device(tmp_path_factory.mktemp("serve-device"))


def _raw(port: int, data: bytes, timeout: float = 5.0) -> tuple[int, dict[str, Any]]:
    """Send ``data`` on a fresh connection; the status and JSON body of the answer (read to the end)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        answer = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 "), answer[:200]
    return int(head.split()[1]), json.loads(body)


def _post(url: str, path: str, body: Any, **headers: str) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(url + path, content=content, headers={"Content-Type": "application/json", **headers}, timeout=10)


def _execute(url: str, name: str, device: str, fields: dict[str, Any], **extra: Any) -> httpx.Response:
    return _post(url, "/v1/execute", {"command": {"name": name, "device_id": device, "fields": fields}, **extra})


def _refusal(response: httpx.Response) -> tuple[int, str, str]:
    error = response.json()["error"]
    return response.status_code, error["kind"], error["message"]


# --- concurrency and deadlines ---------------------------------------------------------


def test_a_second_client_is_answered_while_a_first_holds_an_idle_connection(command: Command) -> None:
    idle = socket.create_connection(("127.0.0.1", command.port))
    partial = socket.create_connection(("127.0.0.1", command.port))
    try:
        partial.sendall(b"GET /v1/dev")  # a request line that never ends
        started = time.monotonic()
        answer = httpx.get(command.url + "/v1/devices", timeout=3)
        assert answer.status_code == 200
        assert time.monotonic() - started < 3
        assert {d["device_id"] for d in answer.json()["devices"]} >= {HUB, METER}
    finally:
        idle.close()
        partial.close()


def _trickle(sock: socket.socket, limit_s: float) -> tuple[bytes, float]:
    """Send a byte every 0.2 s until the server answers or closes; (its answer, seconds taken)."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        if select.select([sock], [], [], 0.2)[0]:
            break
        try:
            sock.sendall(b"x")
        except OSError:
            break
    answer = b""
    with_deadline = time.monotonic() + 2
    while time.monotonic() < with_deadline and select.select([sock], [], [], 0.1)[0]:
        chunk = sock.recv(65536)
        if not chunk:
            break
        answer += chunk
    return answer, time.monotonic() - started


def test_a_slow_request_head_is_cut_at_its_deadline_and_holds_no_one_up(served: Served) -> None:
    slow = socket.create_connection(("127.0.0.1", served.port))
    slow.sendall(b"GET /v1/devices HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
    outcome: list[tuple[bytes, float]] = []
    sender = threading.Thread(target=lambda: outcome.append(_trickle(slow, 10)))
    sender.start()
    time.sleep(0.3)
    assert httpx.get(served.url + "/v1/devices", timeout=2).status_code == 200  # while the slowloris trickles
    sender.join(15)
    slow.close()
    answer, seconds = outcome[0]
    assert 0.9 <= seconds < 3, seconds
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b'"message":"the request head did not arrive within 1 s"' in answer
    assert '"- -" 408' in _logged(served, 2)[-1]


def test_a_slow_body_is_cut_at_its_deadline(served: Served) -> None:
    slow = socket.create_connection(("127.0.0.1", served.port))
    slow.sendall(
        b"POST /v1/reset HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    )
    answer, seconds = _trickle(slow, 10)
    slow.close()
    assert 0.9 <= seconds < 3, seconds
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b'{"error":{"kind":"bad-request","message":"the body did not arrive within 1 s"}}' in answer


class _Hangs(SimulatedAdapter):
    """Answers ReadMeterBalance after 3 s, whatever its timeout."""

    def execute(self, command: DeviceCommand, timeout_s: float = 30.0) -> DeviceReply:
        if command.name == "ReadMeterBalance":
            time.sleep(3)
        return super().execute(command, timeout_s)


def test_an_adapter_that_overruns_its_timeout_is_a_504_and_the_endpoint_stays_up() -> None:
    endpoint = _serve(_Hangs(_esme()))
    try:
        started = time.monotonic()
        late = _execute(endpoint.url, "ReadMeterBalance", METER, {}, timeout_s=0.2)
        assert time.monotonic() - started < 2.9
        assert _refusal(late) == (504, "timeout", "the adapter did not return from ReadMeterBalance within 2.2 s")
        assert httpx.get(endpoint.url + "/openapi.json", timeout=2).status_code == 200  # no device needed
        # The devices stay busy until the adapter returns; then they answer again.
        busy = httpx.get(endpoint.url + "/v1/devices", timeout=10)
        assert busy.status_code == 200
        assert time.monotonic() - started >= 2.9
    finally:
        endpoint.server.stop()


class _Broken(SimulatedAdapter):
    """An adapter with a bug: snapshot raises KeyError."""

    def snapshot(self) -> dict[str, Any]:
        raise KeyError("payment_mode")


def test_an_adapter_bug_is_a_json_fault_and_one_log_line() -> None:
    endpoint = _serve(_Broken(_esme()))
    try:
        answer = httpx.get(endpoint.url + "/v1/snapshot", timeout=5)
    finally:
        endpoint.server.stop()
    assert _refusal(answer) == (500, "fault", "the adapter failed: KeyError: 'payment_mode'")
    assert len(endpoint.log) == 1
    assert endpoint.log[0].endswith("(the adapter failed: KeyError: 'payment_mode')")


# --- Content-Length and body size -----------------------------------------------------


HEAD = b"POST /v1/reset HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"


@pytest.mark.parametrize("length", [b"-1", b"abc", b"1e3", b"99999999999999999999999"])
def test_a_malformed_content_length_is_a_json_400(command: Command, length: bytes) -> None:
    status, body = _raw(command.port, HEAD + b"Content-Length: " + length + b"\r\n\r\n{}")
    assert (status, body) == (
        400,
        {"error": {"kind": "bad-request", "message": "malformed HTTP request: bad Content-Length"}},
    )


def test_a_body_over_the_limit_is_refused_before_it_is_sent(command: Command) -> None:
    status, body = _raw(command.port, HEAD + b"Content-Length: 100000000\r\n\r\n")  # and no body at all
    assert status == 413
    assert body["error"]["message"] == "Content-Length 100000000 is over the limit of 16777216 bytes"


def test_the_limit_itself_is_allowed_and_one_byte_more_is_not(served: Served) -> None:
    at_limit = b"{}" + b" " * 998  # 1,000 bytes of valid JSON
    assert _post(served.url, "/v1/reset", at_limit).status_code == 200
    over = _post(served.url, "/v1/reset", at_limit + b" ")
    assert _refusal(over) == (413, "bad-request", "Content-Length 1001 is over the limit of 1000 bytes")


def test_a_chunked_body_is_bounded_while_it_streams(served: Served) -> None:
    chunks = b"".join(b"%x\r\n%s\r\n" % (300, b" " * 300) for _ in range(4)) + b"0\r\n\r\n"
    status, body = _raw(served.port, HEAD + b"Transfer-Encoding: chunked\r\n\r\n" + chunks)
    assert (status, body["error"]["message"]) == (413, "the body is over the limit of 1000 bytes")


def test_a_head_over_its_limit_is_a_json_431(served: Served) -> None:
    status, body = _raw(served.port, b"GET /v1/devices HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * 20000)
    assert (status, body["error"]["message"]) == (431, "malformed HTTP request: Receive buffer too long")


def test_the_endpoint_names_itself_and_words_a_malformed_request_in_json(served: Served) -> None:
    assert httpx.get(served.url + "/v1/devices", timeout=5).headers["server"] == "s1sr-device/1"
    status, body = _raw(served.port, HEAD + b"Content-Length: abc\r\n\r\n")
    assert (status, body) == (
        400,
        {"error": {"kind": "bad-request", "message": "malformed HTTP request: bad Content-Length"}},
    )
    assert re.fullmatch(
        r's1sr-device \S+ 127\.0\.0\.1:\d+ "- -" 400 \d+\.\d ms \(malformed HTTP request: bad Content-Length\)',
        _logged(served, 2)[-1],
    )


# --- every field checked in one place --------------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({}, "is an object, not an integer"),
        ("abc", "is a string, not an integer"),
        (True, "is a boolean, not an integer"),
        (2.0, "is a number, not an integer"),
        (None, "is null, not an integer"),
        (2**63, "is outside the signed 64-bit range"),
    ],
)
def test_a_field_of_the_wrong_type_is_a_400_naming_it(command: Command, value: Any, problem: str) -> None:
    answer = _execute(command.url, "AddToJoinWhitelist", HUB, {**JOIN, "join_minutes": value})
    assert _refusal(answer) == (400, "bad-request", f"command.fields.join_minutes {problem}")


def test_a_number_too_large_for_a_float_is_a_400(command: Command) -> None:
    body = json.dumps({"command": {"name": "AddToJoinWhitelist", "device_id": HUB, "fields": JOIN}})
    answer = _post(command.url, "/v1/execute", body.replace('"join_minutes": 2', '"join_minutes": 1e400').encode())
    assert _refusal(answer) == (
        400, "bad-request", "command.fields.join_minutes is a number too large to hold, not an integer"
    )  # fmt: skip


def test_no_bad_call_leaves_a_traceback_or_an_unlogged_call(command: Command) -> None:
    _execute(command.url, "AddToJoinWhitelist", HUB, {**JOIN, "joining_device": {}})
    _post(command.url, "/v1/execute", b"[[[[" * 100000)
    time.sleep(0.3)
    log = command.log()
    assert "Traceback" not in log
    assert all(ACCESS_LINE.match(line) for line in log.splitlines()), log[-2000:]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "the body is a list, not an object"),
        ({"command": {}, "extra": 1},
         "the body has a member 'extra' that protocol v1 does not know (command, timeout_s)"),
        ({"timeout_s": 1}, "the body has no member 'command'"),
        ({"command": {"name": "Reboot", "device_id": HUB}},
         "command.name 'Reboot' is not a device command of protocol v1"),
        ({"command": {"name": "ReadMeterBalance", "device_id": "meter"}},
         "command.device_id is 'meter', not an EUI-64 (eight hex pairs joined by '-')"),
        ({"command": {"name": "AddToJoinWhitelist", "device_id": HUB, "fields": {**JOIN, "colour": "red"}}},
         "command.fields of AddToJoinWhitelist has a member 'colour' that protocol v1 does not know "
         "(joining_device, join_minutes, install_code, join_method)"),
        ({"command": {"name": "AddToJoinWhitelist", "device_id": HUB, "fields": {"joining_device": HUB}}},
         "command.fields.join_minutes is missing: AddToJoinWhitelist needs it"),
        ({"command": {"name": "ReadMeterBalance", "device_id": METER, "defaults": {"amount_pence": "Annex C"}}},
         "command.defaults of ReadMeterBalance has a member 'amount_pence' that protocol v1 does not know (none)"),
    ],
)  # fmt: skip
def test_a_call_out_of_shape_is_a_400_naming_the_problem(command: Command, body: Any, message: str) -> None:
    assert _refusal(_post(command.url, "/v1/execute", body)) == (400, "bad-request", message)


def test_a_body_that_is_not_json_is_a_400(command: Command) -> None:
    status, kind, message = _refusal(_post(command.url, "/v1/execute", b"{not json"))
    assert (status, kind) == (400, "bad-request")
    assert message.startswith("the body is not JSON (Expecting property name enclosed in double quotes")
    deep = _refusal(_post(command.url, "/v1/execute", b"[" * 200000))
    assert deep == (400, "bad-request", "the body nests too deeply to be read")


def test_strings_are_bounded(command: Command) -> None:
    long_code = _execute(command.url, "AddToJoinWhitelist", HUB, {**JOIN, "install_code": "0" * 257})
    assert _refusal(long_code)[2] == "command.fields.install_code has 257 characters, over the 256 allowed"
    assert _execute(command.url, "AddToJoinWhitelist", HUB, {**JOIN, "install_code": "0" * 256}).status_code == 200
    huge_key = _execute(command.url, "AddToJoinWhitelist", HUB, {**JOIN, "joining_device": "A" * 1_000_000})
    assert _refusal(huge_key)[2] == "command.fields.joining_device has 1,000,000 characters, over the 256 allowed"


def test_the_join_whitelist_is_bounded(served: Served) -> None:
    replies = []
    for n in range(20):
        joining = f"00-DB-12-34-56-78-91-{n:02X}"
        replies.append(_execute(served.url, "AddToJoinWhitelist", HUB, {**JOIN, "joining_device": joining}).json())
    assert [r["reply"]["accepted"] for r in replies] == [True] * 16 + [False] * 4
    assert replies[16]["reply"]["reason"] == "the join whitelist is full (16 devices)"
    snapshot = httpx.get(served.url + "/v1/snapshot", timeout=5).json()["snapshot"]
    assert len(snapshot[HUB]["join_whitelist_minutes"]) == 16
    again = {**JOIN, "joining_device": "00-DB-12-34-56-78-91-00", "join_minutes": 5}  # already there: updated
    assert _execute(served.url, "AddToJoinWhitelist", HUB, again).json()["reply"] == {
        "accepted": True, "values": {"join_minutes": 5}, "reason": ""
    }  # fmt: skip


@pytest.mark.parametrize(
    ("timeout_s", "message"),
    [
        (1e9, "timeout_s is 1e+09 s, outside more than 0 and at most 600 s"),
        (-5, "timeout_s is -5 s, outside more than 0 and at most 600 s"),
        (0, "timeout_s is 0 s, outside more than 0 and at most 600 s"),
        (600.001, "timeout_s is 600.001 s, outside more than 0 and at most 600 s"),
        ("nan", "timeout_s is a string, not a number of seconds"),
        (True, "timeout_s is a boolean, not a number of seconds"),
    ],
)
def test_timeout_s_is_bounded(command: Command, timeout_s: Any, message: str) -> None:
    answer = _execute(command.url, "ReadMeterBalance", METER, {}, timeout_s=timeout_s)
    assert _refusal(answer) == (400, "bad-request", message)


def test_timeout_s_at_its_bounds_is_accepted_and_nan_is_not_json(command: Command) -> None:
    for seconds in (600, 0.001):
        assert _execute(command.url, "ReadMeterBalance", METER, {}, timeout_s=seconds).status_code == 200
    body = b'{"command": {"name": "ReadMeterBalance", "device_id": "%s"}, "timeout_s": NaN}' % METER.encode()
    status, _, message = _refusal(_post(command.url, "/v1/execute", body))
    assert (status, message) == (400, "the body is not JSON (NaN is not a JSON number)")


# --- who may call --------------------------------------------------------------------


def test_with_a_token_every_call_needs_it() -> None:
    endpoint = _serve(token=TOKEN)
    try:
        bare = httpx.get(endpoint.url + "/v1/devices", timeout=5)
        wrong = httpx.get(endpoint.url + "/v1/devices", headers={"Authorization": f"Bearer {TOKEN}x"}, timeout=5)
        right = httpx.get(endpoint.url + "/v1/devices", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
        reset = _post(endpoint.url, "/v1/reset", {})
        spec = httpx.get(endpoint.url + "/openapi.json", timeout=5)
    finally:
        endpoint.server.stop()
    expected = (401, "unauthorized", "this endpoint needs its token: Authorization: Bearer TOKEN")
    assert _refusal(bare) == _refusal(wrong) == _refusal(reset) == expected
    assert bare.headers["WWW-Authenticate"] == 'Bearer realm="s1sr-device"'
    assert right.status_code == 200
    assert spec.status_code == 200  # the protocol's description is public


def test_the_remote_adapter_sends_the_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for endpoint in _serve_device(tmp_path, env={"S1SR_DEVICE_TOKEN": TOKEN}):
        monkeypatch.delenv("S1SR_DEVICE_TOKEN", raising=False)
        with pytest.raises(ConfigError) as refused:
            RemoteAdapter.create(_esme(), {"url": endpoint.url})
        assert refused.value.line() == (
            f"--device-url: device endpoint {endpoint.url} answered GET /v1/devices with HTTP 401: this endpoint "
            "needs its token: Authorization: Bearer TOKEN; give its token with S1SR_DEVICE_TOKEN or "
            "--adapter-option token=...; start the endpoint, or check its URL and token"
        )
        RemoteAdapter.create(_esme(), {"url": endpoint.url, "token": TOKEN}).close()
        monkeypatch.setenv("S1SR_DEVICE_TOKEN", TOKEN)
        adapter = RemoteAdapter.create(_esme(), {"url": endpoint.url})
        adapter.reset()
        adapter.close()


def test_a_short_token_is_refused_in_one_line(tmp_path: Path) -> None:
    done = s1sr("serve-device", "--dmc", "secure-esme", "--port", "0", env={"S1SR_DEVICE_TOKEN": "secret"})
    assert done.returncode == 2
    assert done.stderr == (
        "s1sr: error: --token / S1SR_DEVICE_TOKEN: the token has 6 characters; give 16 to 512; "
        "make one with: openssl rand -hex 24\n"
    )


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"Origin": "http://evil.example"}, "calls from a web page (http://evil.example) are refused"),
        ({"Origin": "null"}, "calls from a web page (null) are refused"),
        ({"Sec-Fetch-Site": "cross-site"}, "calls from a web page of another site are refused"),
        ({"Host": "rebound.example:8765"},
         "Host 'rebound.example:8765' is not a loopback name: call this endpoint as 127.0.0.1"),
    ],
)  # fmt: skip
def test_a_browser_page_cannot_reset_the_rig(command: Command, headers: dict[str, str], message: str) -> None:
    answer = _post(command.url, "/v1/reset", {}, **headers)
    assert _refusal(answer) == (403, "forbidden", message)


def test_a_form_post_is_refused_and_a_same_origin_call_is_not(command: Command) -> None:
    form = httpx.post(command.url + "/v1/reset", content=b"{}", headers={"Content-Type": "text/plain"}, timeout=5)
    assert _refusal(form) == (
        415, "bad-request", "the body must be declared Content-Type: application/json, not 'text/plain'"
    )  # fmt: skip
    own = _post(command.url, "/v1/reset", {}, Origin=command.url)
    assert own.status_code == 200


# --- the access log --------------------------------------------------------------------


def test_every_call_leaves_one_access_log_line(served: Served) -> None:
    httpx.get(served.url + "/v1/devices", timeout=5)
    _execute(served.url, "ReadMeterBalance", METER, {})
    _post(served.url, "/v1/nowhere", {})
    assert len(_logged(served, 3)) == 3
    matches = [ACCESS_LINE.match(line) for line in served.log]
    assert [(m.group(1), m.group(2)) for m in matches if m] == [
        ("GET /v1/devices", "200"), ("POST /v1/execute", "200"), ("POST /v1/nowhere", "404")
    ]  # fmt: skip
    assert served.log[1].endswith(f" ms (ReadMeterBalance to {METER})")
    assert served.log[2].endswith(" ms (no POST /v1/nowhere in protocol v1)")


# --- the OpenAPI document --------------------------------------------------------------


def test_the_published_openapi_document_is_the_one_served(command: Command) -> None:
    published = REPO / "docs" / "device-protocol.openapi.json"
    assert published.read_text() == wire.openapi_json(), "regenerate: python -m s1sr.devices.wire > " + str(published)
    served = httpx.get(command.url + "/openapi.json", timeout=5).json()
    assert served == json.loads(published.read_text())
    assert served["paths"].keys() == {"/v1/devices", "/v1/reset", "/v1/execute", "/v1/snapshot"}
    join = served["components"]["schemas"]["AddToJoinWhitelistCommand"]["properties"]["fields"]
    assert join["required"] == ["joining_device", "join_minutes", "install_code", "join_method"]
    assert join["additionalProperties"] is False


def test_every_command_field_has_a_wire_type() -> None:
    fields = {name for names in ALL_COMMANDS.values() for name in names}
    assert fields == set(wire.FIELD_TYPES)
    assert not set(COMMANDS) & set(HARNESS_COMMANDS)  # a harness command is never one an S1SP sends


# --- the client ------------------------------------------------------------------------


Handler = Callable[[BaseHTTPRequestHandler], None]


class Fake:
    """A scripted endpoint on 127.0.0.1 (http.server, one thread per connection), recording what it is asked."""

    def __init__(self, answer: Handler) -> None:
        self.calls: list[tuple[str, str, dict[str, str]]] = []
        self.ports: set[int] = set()
        self.stop = threading.Event()
        fake = self

        class Handle(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                fake.calls.append((self.command, self.path, dict(self.headers)))
                fake.ports.add(self.client_address[1])
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                answer(self)

            do_POST = do_GET

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def close(self) -> None:
        self.stop.set()
        self.server.shutdown()
        self.server.server_close()


def _send(handler: BaseHTTPRequestHandler, status: int, payload: Any, **headers: str) -> None:
    data = json.dumps(payload).encode()
    handler.send_response(status)
    for name, value in {"Content-Type": "application/json", "Content-Length": str(len(data)), **headers}.items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


ESTATE = {"devices": [{"device_id": METER, "device_model": "secure-esme", "device_type": "ESME", "han": "HAN-A"}]}


def _estate_then(answers: dict[str, Any]) -> Handler:
    """Answer GET /v1/devices with a good estate and every other path with ``answers[path]``."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        _send(handler, 200, answers.get(handler.path, ESTATE))

    return answer


@pytest.fixture
def fakes() -> Iterator[Callable[[Handler], Fake]]:
    made: list[Fake] = []

    def make(answer: Handler) -> Fake:
        made.append(Fake(answer))
        return made[-1]

    yield make
    for fake in made:
        fake.close()


@pytest.mark.parametrize(("answer", "kind"), [([], "a list"), (None, "null"), ("devices", "a string")])
def test_a_wrong_shaped_answer_at_start_up_is_one_config_line(
    fakes: Callable[[Handler], Fake], answer: Any, kind: str
) -> None:
    fake = fakes(lambda h: _send(h, 200, answer))
    with pytest.raises(ConfigError) as refused:
        RemoteAdapter.create(_esme(), {"url": fake.url})
    assert refused.value.line() == (
        f"--device-url: device endpoint {fake.url} answered GET /v1/devices out of protocol v1: the answer is "
        f"{kind}, not an object; start the endpoint, or check its URL and token"
    )


def test_a_wrong_shaped_answer_at_start_up_stops_the_run_in_one_line(fakes: Callable[[Handler], Fake]) -> None:
    fake = fakes(lambda h: _send(h, 200, []))
    done = s1sr("run", "--adapter", "remote", "--device-url", fake.url, "--dmc", "secure-esme", "--clause", "18.3")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"s1sr: error: --device-url: device endpoint {fake.url} answered GET /v1/devices")


def test_a_wrong_shaped_answer_later_is_a_device_fault(fakes: Callable[[Handler], Fake]) -> None:
    fake = fakes(_estate_then({
        "/v1/snapshot": {"snapshot": None},
        "/v1/execute": {"reply": {"accepted": "yes"}},
        "/v1/reset": [],
    }))  # fmt: skip
    adapter = RemoteAdapter.create(_esme(), {"url": fake.url})
    problems = []
    for call in (
        adapter.snapshot,
        lambda: adapter.execute(DeviceCommand("ReadMeterBalance", METER, {})),
        adapter.reset,
    ):
        with pytest.raises(DeviceFault) as fault:
            call()
        problems.append(str(fault.value))
    adapter.close()
    assert problems == [
        f"device endpoint {fake.url} answered GET /v1/snapshot out of protocol v1: snapshot is null, not an object",
        f"device endpoint {fake.url} answered POST /v1/execute out of protocol v1: "
        "reply.accepted is a string, not a boolean",
        f"device endpoint {fake.url} answered POST /v1/reset out of protocol v1: the answer is a list, not an object",
    ]


def test_a_redirect_is_refused_and_not_followed(fakes: Callable[[Handler], Fake]) -> None:
    elsewhere = fakes(_estate_then({}))
    fake = fakes(lambda h: _send(h, 307, {}, Location=elsewhere.url + "/v1/devices"))
    with pytest.raises(ConfigError) as refused:
        RemoteAdapter.create(_esme(), {"url": fake.url})
    assert (
        f"device endpoint {fake.url} answered GET /v1/devices with a redirect (HTTP 307 to {elsewhere.url}/v1/devices)"
        ": redirects are refused; give the endpoint's own URL" in refused.value.line()
    )
    assert elsewhere.calls == []


def test_a_huge_answer_is_refused_without_reading_it_all(fakes: Callable[[Handler], Fake]) -> None:
    written = [0]

    def endless(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        block = b" " * (1 << 20)
        try:
            for _ in range(1024):  # up to 1 GiB
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
                written[0] += len(block)
        except OSError:
            return

    fake = fakes(endless)
    adapter = RemoteAdapter(_esme(), fake.url)
    tracemalloc.start()
    try:
        with pytest.raises(DeviceFault) as fault:
            adapter.snapshot()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        adapter.close()
    assert str(fault.value) == f"device endpoint {fake.url} answered GET /v1/snapshot with more than 33554432 bytes"
    assert peak < 100 * 1024 * 1024
    time.sleep(0.5)
    assert written[0] < 128 * 1024 * 1024


def test_an_announced_huge_answer_is_refused_before_its_body(fakes: Callable[[Handler], Fake]) -> None:
    def announced(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(1 << 30))
        handler.end_headers()  # and never a byte of it

    fake = fakes(announced)
    adapter = RemoteAdapter(_esme(), fake.url)
    started = time.monotonic()
    with pytest.raises(DeviceFault) as fault:
        adapter.devices()
    adapter.close()
    assert (
        str(fault.value) == f"device endpoint {fake.url} answered GET /v1/devices with 1073741824 bytes, over 33554432"
    )
    assert time.monotonic() - started < 2


def test_a_slow_endpoint_is_a_timeout_within_the_deadline_for_every_call(fakes: Callable[[Handler], Fake]) -> None:
    def silent(handler: BaseHTTPRequestHandler) -> None:
        fake.stop.wait(30)

    def trickle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        for _ in range(60):  # a byte every 0.5 s: never a read timeout, never the whole answer
            if fake.stop.wait(0.5):
                return
            handler.wfile.write(b" ")
            handler.wfile.flush()

    fake = fakes(lambda h: (trickle if h.path == "/v1/devices" else silent)(h))
    adapter = RemoteAdapter(_esme(), fake.url, timeout_s=0.5)  # deadline: 0.5 s + 5 s transport margin

    def timed(call: Callable[[], Any]) -> tuple[str, float]:
        started = time.monotonic()
        try:
            call()
        except DeviceTimeout as exc:
            return str(exc), time.monotonic() - started
        return "answered", time.monotonic() - started

    calls = {
        "reset": adapter.reset,
        "snapshot": adapter.snapshot,
        "devices": adapter.devices,
        "execute": lambda: adapter.execute(DeviceCommand("ReadMeterBalance", METER, {}), 0.5),
    }
    with ThreadPoolExecutor(4) as pool:
        outcomes = dict(zip(calls, pool.map(timed, calls.values()), strict=True))
    adapter.close()
    for name, path in (("reset", "POST /v1/reset"), ("snapshot", "GET /v1/snapshot"), ("execute", "POST /v1/execute")):
        message, seconds = outcomes[name]
        assert message == f"no answer from {fake.url} to {path} within 5.5 s", name
        assert 5.4 <= seconds < 6.5, (name, seconds)
    message, seconds = outcomes["devices"]
    assert message == f"no answer from {fake.url} to GET /v1/devices within 5.5 s"
    assert 5.4 <= seconds < 6.5, seconds  # cut at the first byte past the deadline


def test_an_error_answer_maps_to_timeout_or_fault(fakes: Callable[[Handler], Fake]) -> None:
    answers = {
        "/v1/execute": (504, {"error": {"kind": "timeout", "message": "meter did not answer within 1 s"}}),
        "/v1/reset": (502, {"error": {"kind": "fault", "message": "link down\n" + "x" * 1000}}),
        "/v1/snapshot": (500, "<html>oops</html>"),
    }
    fake = fakes(lambda h: _send(h, *answers[h.path]))
    adapter = RemoteAdapter(_esme(), fake.url)
    with pytest.raises(DeviceTimeout, match=r"^meter did not answer within 1 s$"):
        adapter.execute(DeviceCommand("ReadMeterBalance", METER, {}), 1.0)
    with pytest.raises(DeviceFault) as fault:
        adapter.reset()
    assert str(fault.value).startswith(f"device endpoint {fake.url} answered POST /v1/reset with HTTP 502: link down x")
    assert str(fault.value).endswith("... (1,010 characters)")
    with pytest.raises(DeviceFault, match=r"answered GET /v1/snapshot with HTTP 500: HTTP 500$"):
        adapter.snapshot()
    adapter.close()


@pytest.mark.parametrize("base", ["", "/", "/lab", "/lab/", "/lab/rig-1/"])
def test_urls_are_joined_whatever_the_base_path(fakes: Callable[[Handler], Fake], base: str) -> None:
    fake = fakes(_estate_then({}))
    RemoteAdapter.create(_esme(), {"url": fake.url + base}).close()
    prefix = base.rstrip("/")
    assert [path for _, path, _ in fake.calls] == [f"{prefix}/v1/devices"]


def test_connections_are_reused_and_the_token_is_sent(fakes: Callable[[Handler], Fake]) -> None:
    fake = fakes(_estate_then({"/v1/reset": {}, "/v1/snapshot": {"snapshot": {}}}))
    adapter = RemoteAdapter.create(_esme(), {"url": fake.url, "token": TOKEN})
    adapter.reset()
    adapter.snapshot()
    adapter.devices()
    adapter.close()
    assert len(fake.calls) == 4
    assert len(fake.ports) == 1
    assert {headers["Authorization"] for _, _, headers in fake.calls} == {f"Bearer {TOKEN}"}


@pytest.mark.parametrize(
    ("options", "line"),
    [
        ({"url": "ftp://x"}, "--device-url: 'ftp://x' is not an http(s) URL"),
        ({"url": "http://user:pw@127.0.0.1:1"},
         "--device-url: 'http://user:pw@127.0.0.1:1' carries credentials, a query or a fragment; "
         "give the endpoint's base URL; pass a token with S1SR_DEVICE_TOKEN"),
        ({"url": "http://127.0.0.1:1", "timeout_s": "nan"},
         "--adapter-option timeout_s: timeout_s is not a finite number of seconds; give seconds, e.g. 30"),
        ({"url": "http://127.0.0.1:1", "timeout_s": "601"},
         "--adapter-option timeout_s: timeout_s is 601 s, outside more than 0 and at most 600 s; "
         "give seconds, e.g. 30"),
        ({"url": "http://127.0.0.1:1", "token": "short"},
         "--adapter-option token / S1SR_DEVICE_TOKEN: the token has 5 characters; give 16 to 512"),
        ({"url": "http://127.0.0.1:1", "colour": "red"},
         "--adapter remote: the remote adapter needs --device-url URL and has no option colour; "
         "options: url=URL, token=TOKEN (or S1SR_DEVICE_TOKEN), timeout_s=SECONDS"),
    ],
)  # fmt: skip
def test_bad_options_are_one_config_line(options: dict[str, str], line: str) -> None:
    with pytest.raises(ConfigError) as refused:
        RemoteAdapter.create(_esme(), options)
    assert refused.value.line() == line


def test_the_timeout_option_sets_the_deadline_of_every_call(served: Served) -> None:
    adapter = RemoteAdapter.create(_esme(), {"url": served.url, "timeout_s": "0.5"})
    assert adapter.timeout_s == 0.5
    adapter.close()


def test_the_remote_adapter_round_trips_through_the_endpoint(served: Served) -> None:
    adapter = RemoteAdapter.create(_esme(), {"url": served.url})
    adapter.reset()
    reply = adapter.execute(DeviceCommand("AddToJoinWhitelist", HUB, dict(JOIN), {"join_method": "Annex C"}), 5)
    assert reply == DeviceReply(True, {"join_minutes": 2}, "")
    assert adapter.snapshot()[HUB]["join_whitelist_minutes"] == {"00-DB-12-34-56-78-90-C1": 2}
    assert DeviceInfo(METER, "secure-esme", "ESME", "HAN-A") in adapter.devices()
    adapter.close()
    ports = {line.split()[2] for line in served.log}
    assert len(ports) == 1  # one connection for the five calls


class _Stuck(SimulatedAdapter):
    """ReadMeterBalance takes 20 s, whatever its timeout."""

    def execute(self, command: DeviceCommand, timeout_s: float = 30.0) -> DeviceReply:
        if command.name == "ReadMeterBalance":
            time.sleep(20)
        return super().execute(command, timeout_s)


def test_a_call_in_progress_when_the_endpoint_stops_gets_an_answer() -> None:
    endpoint = _serve(_Stuck(_esme()))
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(_execute, endpoint.url, "ReadMeterBalance", METER, {}, timeout_s=30)
        time.sleep(0.5)
        started = time.monotonic()
        endpoint.server.stop()
        answer = pending.result(timeout=10)
    assert time.monotonic() - started < 6  # uvicorn's 3 s of grace, then the call is cancelled
    assert _refusal(answer) == (503, "fault", "the endpoint stopped before the call ended")
    assert endpoint.log[-1].endswith(f"(ReadMeterBalance to {METER}: the endpoint stopped before the call ended)")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("[::1]", True), ("localhost", True),
     ("0.0.0.0", False), ("192.168.1.5", False), ("rig.lab.example", False)],
)  # fmt: skip
def test_only_a_loopback_address_counts_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
