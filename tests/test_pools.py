"""Lab-rig pools: several rigs for one run, each leased to one scenario at a time; a rig that stops answering leaves."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from s1sr.catalogue import DMC, Catalogue, find_dmc
from s1sr.devices.adapter import DEFAULT_TIMEOUT_S, DeviceAdapter, DeviceError, DeviceFault, DeviceInfo, DeviceTimeout
from s1sr.devices.commands import DeviceCommand, DeviceReply
from s1sr.devices.lease import LOCKS_VARIABLE, NoRigFree, NoRigLeft, RigLeases, locks_folder
from s1sr.devices.pool import load_pool
from s1sr.devices.remote import EndpointDown, EndpointTimeout, RemoteAdapter, RigDown
from s1sr.devices.server import make_server
from s1sr.devices.simulated import Fault, SimulatedAdapter
from s1sr.duis.signing import Credentials
from s1sr.errors import S1srError
from s1sr.s1sp.translator import ReferenceS1SP
from tests.conftest import REPO, s1sr, serve_device

TOKEN = "pool-token-0123456789abcdef"
#: A clause whose every applicable scenario drives the estate: 21 applicable examples on secure-esme, 2 for gas.
CLAUSE = "18.27"
ESME = find_dmc("secure-esme")


def _pool(folder: Path, *rigs: dict[str, str], head: str = "") -> Path:
    path = folder / "pool.toml"
    tables = "".join("[[rig]]\n" + "".join(f'{k} = "{v}"\n' for k, v in rig.items()) for rig in rigs)
    path.write_text(head + tables)
    return path


def _run(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``s1sr run --adapter remote`` on ``CLAUSE``, with the rigs' lock files in ``tmp`` (no other test's rigs)."""
    return s1sr(
        "run", "--adapter", "remote", "--clause", CLAUSE, "--no-archive", *args,
        env={LOCKS_VARIABLE: str(tmp / "locks")},
    )  # fmt: skip


def _results(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "results.json").read_text())
    return data


def _left_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "left the pool" in line]


# --- the pool file ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[rig]\n", "is not TOML (Expected ']]' at the end of an array declaration (at line 1, column 6)); "
         "write [[rig]] tables of url and dmc"),
        ("wait_s = 5\n", 'names no rig; add [[rig]] tables, each with url = "http://..." and dmc = "..."'),
        ("[[rigs]]\n", "unknown key 'rigs'; the file's keys are rig, wait_s"),
        ('[[rig]]\nurl = "http://127.0.0.1:9"\n', 'rig 1: has no dmc; add dmc = "..."'),
        ('[[rig]]\nurl = "http://127.0.0.1:9"\ndmc = "secure-esme"\nurll = "x"\n',
         "rig 1: unknown key 'urll'; a rig's keys are name, url, dmc, token"),
        ('[[rig]]\nurl = "http://127.0.0.1:9"\ndmc = "secure-ems"\n',
         "rig 1 (rig-1): unknown DMC 'secure-ems'; choose one of secure-esme, secure-gsme, secure-esme-credit, "
         "secure-esme-twin"),
        ('[[rig]]\nurl = "http://u:p@127.0.0.1:9"\ndmc = "secure-esme"\n',
         "rig 1 (rig-1): 'http://u:p@127.0.0.1:9' carries credentials, a query or a fragment; give the endpoint's "
         "base URL; pass a token with S1SR_DEVICE_TOKEN"),
        ('[[rig]]\nurl = "http://127.0.0.1:9"\ndmc = "secure-esme"\ntoken = "short"\n',
         "rig 1 (rig-1): the token has 5 characters; give 16 to 512; make one with: openssl rand -hex 24"),
        ('[[rig]]\nname = "a"\nurl = "http://127.0.0.1:9/"\ndmc = "secure-esme"\n'
         '[[rig]]\nname = "b"\nurl = "http://127.0.0.1:9/v1"\ndmc = "secure-esme"\n',
         "rigs a and b name the same endpoint (http://127.0.0.1:9/, http://127.0.0.1:9/v1); list each rig once"),
        ('[[rig]]\nname = "a"\nurl = "http://127.0.0.1:9"\ndmc = "secure-esme"\n'
         '[[rig]]\nname = "a"\nurl = "http://127.0.0.1:10"\ndmc = "secure-esme"\n',
         "two rigs are named a; give each rig its own name"),
        ('wait_s = 0\n[[rig]]\nurl = "http://127.0.0.1:9"\ndmc = "secure-esme"\n',
         "wait_s 0 is not a number of seconds more than 0 and at most 3600; for example wait_s = 600"),
    ],
)  # fmt: skip
def test_each_error_of_a_pool_file_is_one_line(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "pool.toml"
    path.write_text(text)
    with pytest.raises(S1srError) as refused:
        load_pool(path)
    assert refused.value.line() == f"--pool {path}: {expected}"


def test_a_pool_file_gives_each_rig_its_name_dmc_token_and_the_wait(tmp_path: Path) -> None:
    path = _pool(
        tmp_path,
        {"name": "lab-a", "url": "http://10.0.0.1:8765", "dmc": "secure-esme", "token": TOKEN},
        {"url": "http://10.0.0.2:8765/v1", "dmc": "secure-gsme"},
        head="wait_s = 90\n",
    )
    pool = load_pool(path)
    assert [(r.name, r.url, r.dmc, r.token) for r in pool.rigs] == [
        ("lab-a", "http://10.0.0.1:8765", "secure-esme", TOKEN),
        ("rig-2", "http://10.0.0.2:8765/v1", "secure-gsme", None),
    ]
    assert pool.wait_s == 90.0
    assert pool.dmcs() == ["secure-esme", "secure-gsme"]
    assert pool.workers(["secure-esme", "secure-gsme"]) == 2
    assert pool.workers(["secure-esme"]) == 0  # one rig: one process, no workers
    assert TOKEN not in repr(pool) and TOKEN not in pool.describe(["secure-esme"])
    assert pool.describe(["secure-esme"]) == "remote, pool of 1 rig: lab-a = http://10.0.0.1:8765 (secure-esme)"


def _one_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_s1sr_run_refuses_a_bad_pool_in_one_line_before_anything_runs(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rig]]\nurl = "http://127.0.0.1:9"\ndmc = "secure-xx"\n')
    assert _one_line(_run(tmp_path, "--pool", str(bad))) == (
        f"s1sr: error: --pool {bad}: rig 1 (rig-1): unknown DMC 'secure-xx'; choose one of secure-esme, "
        "secure-gsme, secure-esme-credit, secure-esme-twin"
    )
    dead = _pool(tmp_path, {"name": "lab-a", "url": "http://127.0.0.1:9", "dmc": "secure-esme"})
    assert _one_line(_run(tmp_path, "--pool", str(dead))) == (
        f"s1sr: error: --pool {dead}: rig lab-a (http://127.0.0.1:9): cannot reach the device endpoint "
        "http://127.0.0.1:9 (GET /v1/devices): [Errno 111] Connection refused; start it, or take it out of the pool"
    )
    done = s1sr("run", "--adapter", "simulated", "--pool", str(dead), "--no-archive")
    assert _one_line(done) == (
        f"s1sr: error: --pool {dead}: a pool is of rigs the remote adapter reaches, and the adapter is simulated; "
        "add --adapter remote"
    )
    done = _run(tmp_path, "--device-url", "http://127.0.0.1:9", "--device-url", "http://127.0.0.1:10")
    assert _one_line(done) == (
        "s1sr: error: --device-url: 2 device URLs make a pool of rigs of one DMC, and the run has no --dmc; "
        "give one --dmc, or a --pool file naming each rig's DMC"
    )
    done = _run(tmp_path, "--pool", str(dead), "--dmc", "secure-gsme")
    assert _one_line(done) == (
        "s1sr: error: --dmc secure-gsme: no rig of the pool holds DMC secure-gsme; add a [[rig]] with "
        'dmc = "secure-gsme" to the pool file, or leave --dmc secure-gsme out'
    )


def test_the_help_says_a_pool_runs_as_many_workers_as_rigs() -> None:
    done = s1sr("run", "--help")
    assert "without --workers, the run uses as many workers as rigs" in " ".join(done.stdout.split())


# --- runs on a pool ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def two_rigs() -> Iterator[tuple[str, str]]:
    """Two good rigs of secure-esme; the second wants a token."""
    with serve_device("secure-esme") as first, serve_device("secure-esme", "--token", TOKEN) as second:
        yield first, second


def test_a_pool_of_two_gives_the_verdicts_of_one_rig(tmp_path: Path, two_rigs: tuple[str, str]) -> None:
    first, second = two_rigs
    one = _run(tmp_path, "--device-url", first, "--dmc", "secure-esme", "--report-dir", str(tmp_path / "one"))
    assert one.returncode == 0, one.stdout + one.stderr
    pool = _pool(
        tmp_path,
        {"name": "rig-a", "url": first, "dmc": "secure-esme"},
        {"name": "rig-b", "url": second, "dmc": "secure-esme", "token": TOKEN},
    )
    journal = tmp_path / "pool.jsonl"
    two = _run(tmp_path, "--pool", str(pool), "--report-dir", str(tmp_path / "two"), "--journal", str(journal))
    assert two.returncode == 0, two.stdout + two.stderr
    assert _left_lines(two.stderr) == []
    single, pooled = _results(tmp_path / "one"), _results(tmp_path / "two")
    assert {s["id"]: s["outcome"] for s in pooled["scenarios"]} == {s["id"]: s["outcome"] for s in single["scenarios"]}
    assert Counter(s["outcome"] for s in pooled["scenarios"]) == {"passed": 21, "not applicable": 2}
    assert pooled["verdict"] == single["verdict"] == "CONFORMANT"
    assert pooled["adapter"] == (
        f"remote, pool of 2 rigs: rig-a = {first} (secure-esme); rig-b = {second} (secure-esme)"
    )
    # Without --workers, as many workers as rigs; the record names the rig of every scenario that ran.
    lines = [json.loads(line) for line in journal.read_text().splitlines()]
    assert {line["worker"] for line in lines if line["kind"] == "header"} == {"controller", "gw0", "gw1"}
    rigs = Counter(s["rig"] for s in pooled["scenarios"] if s["outcome"] == "passed")
    assert set(rigs) == {"rig-a", "rig-b"} and sum(rigs.values()) == 21
    assert {s["rig"] for s in pooled["scenarios"] if s["outcome"] == "not applicable"} == {""}


@pytest.fixture(scope="module")
def good_and_silent() -> Iterator[tuple[str, str]]:
    """A good rig, and one whose devices never answer (every command times out)."""
    with (
        serve_device("secure-esme") as good,
        serve_device("secure-esme", "--adapter-option", "fault=no-response") as silent,
    ):
        yield good, silent


def test_a_rig_that_stops_answering_leaves_and_the_other_rig_runs_the_rest(
    tmp_path: Path, good_and_silent: tuple[str, str]
) -> None:
    good, silent = good_and_silent
    pool = _pool(
        tmp_path,
        {"name": "good", "url": good, "dmc": "secure-esme"},
        {"name": "silent", "url": silent, "dmc": "secure-esme"},
    )
    done = _run(tmp_path, "--pool", str(pool), "--timeout", "1", "--report-dir", str(tmp_path / "out"))
    assert done.returncode == 3, done.stdout + done.stderr  # INCONCLUSIVE: an error, no failure
    results = _results(tmp_path / "out")
    assert results["verdict"] == "INCONCLUSIVE"
    assert Counter(s["outcome"] for s in results["scenarios"]) == {"passed": 20, "error": 1, "not applicable": 2}
    [error] = [s for s in results["scenarios"] if s["outcome"] == "error"]
    assert error["rig"] == "silent"
    assert re.fullmatch(r"device error: [0-9A-F-]{23} did not answer \w+ within 1 s", error["reason"])
    assert {s["rig"] for s in results["scenarios"] if s["outcome"] == "passed"} == {"good"}
    [line] = _left_lines(done.stderr)
    assert re.fullmatch(
        rf"s1sr: rig silent \({re.escape(silent)}\) left the pool: [0-9A-F-]{{23}} did not answer \w+ "
        r"within 1 s",
        line,
    )


class _SilenceAsRefusal(DeviceAdapter):
    """Turns a device error into a refused command, as an S1SP that answers for a silent device would."""

    name = "silence-as-refusal"

    def __init__(self, inner: DeviceAdapter) -> None:
        self.inner = inner

    def execute(self, command: DeviceCommand, timeout_s: float = DEFAULT_TIMEOUT_S) -> DeviceReply:
        try:
            return self.inner.execute(command, timeout_s)
        except DeviceError as exc:
            return DeviceReply(False, reason=str(exc))

    def reset(self) -> None:
        self.inner.reset()

    def snapshot(self) -> dict[str, Any]:
        return self.inner.snapshot()

    def devices(self) -> list[DeviceInfo]:
        return self.inner.devices()


class AnswersSilenceAsRefusal(ReferenceS1SP):
    """An S1SP that answers a device error with a failure response: the scenario would fail, not err."""

    @classmethod
    def create(
        cls, catalogue: Catalogue, dmc: DMC, adapter: DeviceAdapter, credentials: Credentials, timeout_s: float
    ) -> ReferenceS1SP:
        return cls(catalogue, dmc, _SilenceAsRefusal(adapter), timeout_s, credentials)


def test_a_scenario_in_flight_on_a_rig_that_leaves_is_an_error_whatever_the_s1sp_made_of_it(
    tmp_path: Path, good_and_silent: tuple[str, str]
) -> None:
    good, silent = good_and_silent
    pool = _pool(
        tmp_path,
        {"name": "good", "url": good, "dmc": "secure-esme"},
        {"name": "silent", "url": silent, "dmc": "secure-esme"},
    )
    done = _run(
        tmp_path, "--pool", str(pool), "--timeout", "1", "--s1sp", "tests.test_pools:AnswersSilenceAsRefusal",
        "--report-dir", str(tmp_path / "out"),
    )  # fmt: skip
    assert done.returncode == 3, done.stdout + done.stderr  # INCONCLUSIVE, never NOT CONFORMANT
    results = _results(tmp_path / "out")
    assert Counter(s["outcome"] for s in results["scenarios"]) == {"passed": 20, "error": 1, "not applicable": 2}
    [error] = [s for s in results["scenarios"] if s["outcome"] == "error"]
    assert re.fullmatch(
        rf"device error: rig silent \({re.escape(silent)}\) left the pool: [0-9A-F-]{{23}} did not answer \w+ "
        r"within 1 s",
        error["reason"],
    )


def test_when_every_rig_stops_answering_the_rest_is_not_run(tmp_path: Path) -> None:
    silent = ("--adapter-option", "fault=no-response")
    with serve_device("secure-esme", *silent) as first, serve_device("secure-esme", *silent) as second:
        done = _run(
            tmp_path, "--device-url", first, "--device-url", second, "--dmc", "secure-esme", "--timeout", "1",
            "--report-dir", str(tmp_path / "out"),
        )  # fmt: skip
    assert done.returncode == 3, done.stdout + done.stderr
    results = _results(tmp_path / "out")
    assert results["verdict"] == "INCONCLUSIVE"
    # One scenario errs on each rig as it leaves; the other 19 applicable ones find no rig left.
    assert Counter(s["outcome"] for s in results["scenarios"]) == {"error": 2, "not run": 19, "not applicable": 2}
    assert sorted(s["rig"] for s in results["scenarios"] if s["outcome"] == "error") == ["rig-1", "rig-2"]
    for scenario in results["scenarios"]:
        if scenario["outcome"] == "not run":
            assert scenario["rig"] == ""
            assert re.fullmatch(
                r"no rig left: every rig of DMC secure-esme left the pool \(rig-1: [0-9A-F-]{23} did not "
                r"answer \w+ within 1 s; rig-2: [0-9A-F-]{23} did not answer \w+ within 1 s\)",
                scenario["reason"],
            )
    assert sorted(line.split(" (")[0] for line in _left_lines(done.stderr)) == ["s1sr: rig rig-1", "s1sr: rig rig-2"]


def test_under_pytest_a_rig_down_before_its_first_scenario_leaves_and_nothing_errs(
    tmp_path: Path, two_rigs: tuple[str, str]
) -> None:
    """``pytest --s1sr-pool`` checks no rig up front: a dead one leaves at its first lease, its scenario moves on."""
    pool = _pool(
        tmp_path,
        {"name": "dead", "url": "http://127.0.0.1:9", "dmc": "secure-esme"},
        {"name": "alive", "url": two_rigs[0], "dmc": "secure-esme"},
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "s1sr.plugin",
         str(REPO / "s1sr" / "suite" / "test_clauses.py"), "-c", str(REPO / "s1sr" / "suite" / "s1sr-run.ini"),
         "--rootdir", str(REPO / "s1sr" / "suite"), "--s1sr-adapter", "remote", "--s1sr-pool", str(pool),
         "--s1sr-clause", CLAUSE, "--s1sr-results", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=tmp_path, timeout=600, env={**os.environ, LOCKS_VARIABLE: str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    results = _results(tmp_path / "out")
    assert Counter(s["outcome"] for s in results["scenarios"]) == {"passed": 21, "not applicable": 2}
    assert {s["rig"] for s in results["scenarios"] if s["outcome"] == "passed"} == {"alive"}
    assert _left_lines(done.stderr) == [
        "s1sr: rig dead (http://127.0.0.1:9) left the pool: cannot reach the device endpoint http://127.0.0.1:9 "
        "(GET /v1/devices): [Errno 111] Connection refused"
    ]


# --- leases between processes --------------------------------------------------------------------------

HOLDER = """
import sys
from pathlib import Path
from s1sr.devices.lease import RigLeases
lease = RigLeases("run-1", Path(sys.argv[1])).acquire(["http://rig:1"], 5.0)
print("held", flush=True)
sys.stdin.read()
"""


def test_a_lease_excludes_another_process_until_it_dies(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        mine = RigLeases("run-1", tmp_path)
        with pytest.raises(NoRigFree, match=r"^no rig came free within 0\.2 s$"):
            mine.acquire(["http://rig:1"], 0.2)
        other = mine.acquire(["http://rig:1", "http://rig:2"], 0.2)  # the free one
        assert other.key == "http://rig:2"
        other.release()
    finally:
        holder.kill()  # SIGKILL: the kernel lets the rig go
        holder.wait()
    lease = mine.acquire(["http://rig:1"], 5.0)
    assert lease.key == "http://rig:1"
    lease.release()


def test_a_rig_that_left_is_out_for_every_process_of_its_run_and_for_no_other_run(tmp_path: Path) -> None:
    first, second, other_run = RigLeases("run-1", tmp_path), RigLeases("run-1", tmp_path), RigLeases("run-2", tmp_path)
    lease = first.acquire(["http://rig:1"], 1.0)
    assert lease.leave("no answer within 6 s") is True
    assert lease.leave("again") is False  # one leaving, one line
    lease.release()
    with pytest.raises(NoRigLeft) as none_left:
        second.acquire(["http://rig:1"], 1.0)
    assert none_left.value.left == {"http://rig:1": "no answer within 6 s"}
    kept = second.acquire(["http://rig:1", "http://rig:2"], 1.0)
    assert kept.key == "http://rig:2"
    kept.release()
    again = other_run.acquire(["http://rig:1"], 1.0)
    assert again.key == "http://rig:1"
    again.release()


def test_the_lock_folder_must_be_the_users_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "locks"
    folder.mkdir(mode=0o700)
    monkeypatch.setenv(LOCKS_VARIABLE, str(folder))
    assert locks_folder() == folder
    folder.chmod(0o777)
    with pytest.raises(S1srError) as refused:
        locks_folder()
    assert refused.value.line() == (
        f"{folder} (the rigs' lock files, {LOCKS_VARIABLE}): is not a folder of this user's that only this user "
        f"may write; remove it, or set {LOCKS_VARIABLE} to a folder of yours"
    )


# --- which failures mean the rig itself stopped answering ------------------------------------------------


def _command() -> DeviceCommand:
    return DeviceCommand("ReadFirmwareStatus", "00-DB-12-34-56-78-90-A0", {}, {})


@pytest.mark.parametrize(
    ("fault", "error", "down"),
    [("device-error", DeviceFault, False), ("no-response", EndpointTimeout, True)],
)
def test_a_device_fault_keeps_the_rig_and_a_device_timeout_does_not(
    fault: str, error: type[Exception], down: bool
) -> None:
    server = make_server(SimulatedAdapter(ESME, fault=Fault(fault)), "127.0.0.1", 0, log=lambda line: None).start()
    adapter = RemoteAdapter(ESME, server.url)
    try:
        with pytest.raises(error) as raised:
            adapter.execute(_command(), 0.5)
        assert isinstance(raised.value, RigDown) is down
    finally:
        adapter.close()
        server.stop()


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (502, {"error": {"kind": "fault", "message": "the device reported a fault"}}, DeviceFault),
        (500, {"error": {"kind": "fault", "message": "the adapter failed"}}, DeviceFault),
        (502, None, EndpointDown),  # a proxy's: the rig behind it is gone
        (503, {"error": {"kind": "fault", "message": "stopping"}}, EndpointDown),
        (401, {"error": {"kind": "unauthorized", "message": "token"}}, EndpointDown),
        (504, None, EndpointTimeout),
        (200, {"no": "reply"}, EndpointDown),
    ],
)
def test_an_answer_outside_the_protocol_is_the_rig_down(
    monkeypatch: pytest.MonkeyPatch, status: int, body: Any, error: type[Exception]
) -> None:
    data = json.dumps(body).encode() if body is not None else b"Bad Gateway"

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, stream=httpx.ByteStream(data))  # streamed, as the adapter reads it

    adapter = RemoteAdapter(ESME, "http://rig.test:8765")
    monkeypatch.setattr(adapter, "_client", httpx.Client(transport=httpx.MockTransport(answer)))
    try:
        with pytest.raises(error) as raised:
            adapter.execute(_command(), 1.0)
        assert isinstance(raised.value, RigDown) is (error is not DeviceFault)
        assert isinstance(raised.value, DeviceTimeout) is (error is EndpointTimeout)
    finally:
        adapter.close()


def test_no_connection_is_the_rig_down() -> None:
    adapter = RemoteAdapter(ESME, "http://127.0.0.1:9")
    try:
        with pytest.raises(EndpointDown, match=r"Connection refused"):
            adapter.reset()
    finally:
        adapter.close()


def test_workers_on_one_rig_are_refused_in_one_line(tmp_path: Path) -> None:
    done = s1sr(
        "run", "--adapter", "remote", "--device-url", "http://127.0.0.1:9", "--dmc", "secure-esme", "--workers", "2",
        "--report-dir", str(tmp_path / "r"),
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr == (
        "s1sr: error: --workers: --workers 2 would drive one rig from 2 processes at once; "
        "give each worker a rig: --device-url once per rig (with --dmc), or --pool FILE\n"
    )
    assert not (tmp_path / "r").exists()
