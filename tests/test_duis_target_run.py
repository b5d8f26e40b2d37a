"""``s1sr run --target duis``: the clause suite as a DCC User against ``s1sr serve-s1sp``, over loopback.

A lab as a supplier builds one: a rig behind the device protocol (``s1sr serve-device``), the
S1SP behind DUIS driving that rig (``s1sr serve-s1sp --adapter remote``), and the harness
sending every request through DUIS while it resets and reads the same rig
(``--adapter remote``). Every server is a subprocess started as a user starts it and
stopped at the end of its test or module. Scenarios that act as another User (DUIS.1) need
that User's key (``--user-keys DIR``) and the endpoint its certificate (``--user-cert``).
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from s1sr.catalogue import find_dmc, load_catalogue
from s1sr.devices.recording import RecordingAdapter
from s1sr.devices.simulated import SimulatedAdapter
from s1sr.duis.namespaces import NSMAP
from s1sr.duis.request import (
    ActivateFirmware,
    ReadMeterBalance,
    RequestId,
    ServiceRequest,
    UpdateFirmware,
    UpdateMeterBalance,
    build_request,
)
from s1sr.duis.safe_xml import parse_xml
from s1sr.duis.signing import Credentials, generated_credentials, verify_element
from s1sr.duis_http.client import DuisRejected
from s1sr.duis_http.envelope import sign_envelope
from s1sr.duis_http.target import DEFAULT_USER, DuisTarget, read_user_keys
from s1sr.errors import ConfigError
from s1sr.plugin.settings import check_target
from s1sr.s1sp.api import S1SP
from s1sr.s1sp.translator import ReferenceS1SP
from s1sr.session import (
    DCC_ID,
    USER_ID,
    CorrelationFailure,
    OriginatorCounter,
    SignatureFailure,
    UserSession,
)
from tests.conftest import REPO, s1sr
from tests.duis_rig import (
    USER,
    Rig,
    free_port,
    make_user,
    rtds,
    with_counter,
    write_pair,
    write_users,
)
from tests.duis_rig import rig as in_process_endpoint

METER = "00-DB-12-34-56-78-90-A0"
#: Steps that judge the commands the devices received: the harness cannot see them over DUIS.
DEVICE_COMMAND_STEP = re.compile(
    r"\breceived\b|no device command was sent|no refused request reached a device|came from (Annex C|\"|the request)"
)
SERVING = re.compile(r"serving (?:DMC \S+|DUIS) on (http://127\.0\.0\.1:\d+)")
#: A User ID a feature sends as by number (``Given the User sends as User ID ...``), registered or not.
SENT_AS = re.compile(r"the User sends as User ID ([0-9A-F]{2}(?:-[0-9A-F]{2}){7})")


@dataclass(frozen=True)
class User:
    """The User's key and certificate files (the certificate names the User, as SMKI's do)."""

    key: Path
    cert: Path


@dataclass(frozen=True)
class Users:
    """The other test Users: the folder of their keys (``--user-keys``) and their certificates."""

    folder: Path
    certs: tuple[Path, ...]


@dataclass(frozen=True)
class Served:
    """A running ``serve-s1sp``: its URL, the certificates to trust, and where it delivers."""

    url: str
    trust: Path
    listen: str
    process: subprocess.Popen[str] | None = field(default=None, compare=False)


def _start(command: str, *args: str) -> tuple[subprocess.Popen[str], str]:
    """``s1sr COMMAND ARGS`` in a subprocess, once it says where it serves."""
    process = subprocess.Popen(
        [sys.executable, "-m", "s1sr", command, *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    found = SERVING.match(first)
    if found is None:
        _stop(process)
        raise AssertionError(f"{command} did not start: {first}{process.stderr.read() if process.stderr else ''}")
    # Drain both pipes, so a chatty server never blocks on a full pipe.
    for stream in (process.stdout, process.stderr):
        assert stream is not None
        threading.Thread(target=stream.read, daemon=True).start()
    return process, found.group(1)


def _stop(process: subprocess.Popen[str]) -> None:
    """Ctrl-C, as a user stops it; killed if it does not end in 20 s."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


@pytest.fixture(scope="module")
def user(tmp_path_factory: pytest.TempPathFactory) -> User:
    """The RTDS test User's stand-in."""
    key, cert = write_pair(make_user(USER, "test User"), tmp_path_factory.mktemp("user"), "user")
    return User(key, cert)


@pytest.fixture(scope="module")
def users(tmp_path_factory: pytest.TempPathFactory) -> Users:
    """A key and certificate for every test User but the default one: those of srvs.toml, and the User IDs
    the features send as by number (the endpoint knows them all; the reference S1SP decides their roles)."""
    registered = {u.eui for u in load_catalogue("4.3").eligibility.users}
    features = "".join(path.read_text() for path in (REPO / "features").glob("*.feature"))
    others = sorted((registered | set(SENT_AS.findall(features))) - {USER})
    folder = tmp_path_factory.mktemp("users") / "keys"
    return Users(folder, tuple(write_users(others, folder)))


@pytest.fixture(scope="module")
def rig() -> Iterator[str]:
    """The lab's rig: a simulated secure-esme behind the device protocol; its URL."""
    process, url = _start("serve-device", "--dmc", "secure-esme", "--port", "0")
    try:
        yield url
    finally:
        _stop(process)


@contextmanager
def serve_s1sp(
    user: User, rig: str, folder: Path, *extra: str, deliver_to: str | None = None, users: Users | None = None
) -> Iterator[Served]:
    """``serve-s1sp`` driving ``rig``, delivering to a free port (or ``deliver_to``), knowing ``user`` and
    ``users``; stopped on exit."""
    port = free_port()
    trust = folder / "s1sp.pem"
    response_url = deliver_to or f"http://127.0.0.1:{port}/duis/response"
    known = [arg for cert in (user.cert, *(users.certs if users else ())) for arg in ("--user-cert", str(cert))]
    process, url = _start(
        "serve-s1sp", "--port", "0", "--adapter", "remote", "--device-url", rig, "--response-url", response_url,
        "--cert-out", str(trust), *known, *extra,
    )  # fmt: skip
    try:
        yield Served(url, trust, f"127.0.0.1:{port}", process)
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def served(user: User, rig: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The reference S1SP served over DUIS for the module, one long-lived endpoint as in a lab."""
    with serve_s1sp(user, rig, tmp_path_factory.mktemp("served")) as endpoint:
        yield endpoint


def duis_args(
    user: User,
    rig: str,
    served: Served,
    *args: str,
    timeout: str = "10",
    dmc: str = "secure-esme",
    users: Users | None = None,
) -> list[str]:
    """The arguments of ``s1sr run --target duis`` against ``served`` and ``rig`` (with ``users``' keys)."""
    return [
        "run", "--target", "duis", "--duis-url", served.url, "--user-key", str(user.key),
        "--user-cert", str(user.cert), "--trust", str(served.trust), "--response-listen", served.listen,
        "--response-timeout", timeout, "--adapter", "remote", "--device-url", rig, "--dmc", dmc,
        *(("--user-keys", str(users.folder)) if users else ()), *args,
    ]  # fmt: skip


def run_duis(user: User, rig: str, served: Served, *args: str, timeout: str = "10") -> subprocess.CompletedProcess[str]:
    """``s1sr run --target duis`` against ``served`` and ``rig``."""
    return s1sr(*duis_args(user, rig, served, *args, timeout=timeout))


def _record(folder: Path) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((folder / "results.json").read_text())
    return record


def _by_id(record: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["id"]: s for s in record["scenarios"]}


def _device_command_steps(scenario: dict[str, Any]) -> list[str]:
    return [step["text"] for step in scenario["steps"] if DEVICE_COMMAND_STEP.search(step["text"])]


# --- the suite through DUIS gives the in-process outcomes ------------------------------------------


@pytest.mark.parametrize(
    ("dmc", "version"),
    [("secure-esme", "4.3"), ("secure-gsme", "4.3"), ("secure-esme", "4.2"), ("secure-gsme", "4.2")],
)
def test_the_whole_suite_through_duis_gives_the_in_process_outcomes(
    user: User, users: Users, dmc: str, version: str, tmp_path: Path
) -> None:
    """Every scenario, both default DMCs, both S1SR versions: passed stays passed (its device-command
    steps not observable), not applicable stays not applicable, and nothing else differs. The run holds
    every test User's key, so the scenarios acting in a role (DUIS.1) are judged as in process."""
    process, rig_url = _start("serve-device", "--dmc", dmc, "--port", "0")
    try:
        with serve_s1sp(user, rig_url, tmp_path, "--dmc", dmc, "--s1sr-version", version, users=users) as endpoint:
            report = str(tmp_path / "duis")
            over_duis = s1sr(
                *duis_args(
                    user, rig_url, endpoint, "--s1sr-version", version, "--report-dir", report, dmc=dmc, users=users
                )
            )
    finally:
        _stop(process)
    in_process = s1sr("run", "--dmc", dmc, "--s1sr-version", version, "--report-dir", str(tmp_path / "local"))
    assert in_process.returncode == 0, in_process.stdout + in_process.stderr
    assert over_duis.returncode == 0, over_duis.stdout + over_duis.stderr
    record = _record(tmp_path / "duis")
    duis, local = _by_id(record), _by_id(_record(tmp_path / "local"))
    assert record["s1sp"] == f"duis {endpoint.url}" and record["dmc"] == [dmc]
    assert set(duis) == set(local) and len(duis) >= 100
    assert {i: s["outcome"] for i, s in duis.items()} == {i: s["outcome"] for i, s in local.items()}
    for scenario_id, scenario in duis.items():
        unobserved = [st["text"] for st in scenario["steps"] if st["status"] == "not observable"]
        # What is not observable is exactly what judges the commands devices received (this test's own
        # reading of the step texts), and in process every step of it was observed.
        expected = _device_command_steps(scenario) if scenario["outcome"] == "passed" else unobserved
        assert unobserved == expected, scenario_id
        assert not [st for st in local[scenario_id]["steps"] if st["status"] == "not observable"]
    unseen = record["not_observable"]
    assert unseen["steps"] > 0 and unseen["passed_scenarios"] > 0
    assert f"{unseen['passed_scenarios']} of them with {unseen['steps']} device-side step(s) not observable" in (
        over_duis.stdout
    )
    # Requests go out on the web service DUIS names: critical SRV 1.5 with Command Variant 4 (S1SR 4.2
    # documents no clause that sends 1.5).
    if version == "4.3":
        evidence = [e for s in duis.values() for e in s["evidence"] if e["srv"] == "1.5"]
        assert evidence and all("<sr:CommandVariant>4</sr:CommandVariant>" in e["request_xml"] for e in evidence)
    # The roles' scenarios were judged, not passed over: E2 came back from the endpoint, signed and correlated.
    access = [s for s in duis.values() if "DUIS.1" in s["clauses"]]
    assert len([s for s in access if s["outcome"] == "passed"]) >= 10, [s["reason"] for s in access]
    refusals = [
        e for s in access for e in s["evidence"] if "<sr:ResponseCode>E2</sr:ResponseCode>" in e["response_xml"]
    ]
    assert refusals and {(e["signature"], e["correlation"]) for e in refusals} == {
        ("ECDSA P-256/SHA-256 signature verifies", "matches the request")
    }


def test_without_user_keys_the_scenarios_acting_as_other_users_are_not_applicable(
    user: User, rig: str, served: Served, tmp_path: Path
) -> None:
    """The endpoint would refuse another User's request E1 (no key signs it as that User): not a failure of
    the S1SP, and not something to judge, so those scenarios are not applicable and say whose key is missing."""
    done = run_duis(user, rig, served, "--clause", "DUIS.1", "--clause", "18.16", "--report-dir", str(tmp_path / "r"))
    assert done.returncode == 0, done.stdout + done.stderr
    record = _record(tmp_path / "r")
    assert record["verdict"] == "CONFORMANT"
    access = {s["name"]: s for s in record["scenarios"] if "DUIS.1" in s["clauses"]}
    others = [s for s in record["scenarios"] if "DUIS.1" not in s["clauses"]]
    assert len(access) >= 10 and {s["outcome"] for s in access.values()} == {"not applicable"}
    assert others and {s["outcome"] for s in others} == {"passed"}
    by_user = re.compile(
        r"acts as an? [A-Za-z ]+ \(User ([0-9A-F]{2}(?:-[0-9A-F]{2}){7})\), and this target holds no signing key"
        r" for that User"
    )
    for name, scenario in access.items():
        if scenario["reason"] != "example for gas meters; secure-esme is electricity":
            found = by_user.fullmatch(scenario["reason"])
            assert found is not None and found.group(1) != USER, (name, scenario["reason"])
    assert re.fullmatch(
        r"acts as an? Electricity Distributor \(User 90-B3-D5-1F-30-02-00-00\), .*",
        access["A refused balance adjustment leaves the meter balance as it was"]["reason"],
    )
    assert access["A User ID the S1SP does not know holds no role"]["reason"] == (
        "acts as an unregistered User (User 90-B3-D5-1F-30-0F-00-0F), and this target holds no signing key"
        " for that User"
    )


# --- E2 and E11 reach the User's session, signed by the endpoint and answering their request -------------

DISTRIBUTOR = "90-B3-D5-1F-30-02-00-00"  # the Electricity Distributor of srvs.toml: not eligible for 1.5 or 11.1
STRANGER = "90-B3-D5-1F-30-0F-00-0F"
#: An exchange in the endpoint's log: the service posted to, the HTTP status, the DUIS code.
EXCHANGE = re.compile(r'"POST (\S+)" (\d{3}) ([EI]\d+) ')


class _Readdressed(S1SP):
    """The endpoint's answer to another request: its RequestID's counter one higher, signed again by the endpoint
    (so only correlation can tell)."""

    def __init__(self, inner: S1SP, endpoint: Credentials) -> None:
        self.inner, self.endpoint = inner, endpoint

    @classmethod
    def create(cls, *args: Any) -> S1SP:
        raise TypeError("built by the test around a DuisTarget")

    def respond(self, request_xml: bytes) -> bytes:
        answer = parse_xml(self.inner.respond(request_xml))
        node = answer.find("sr:Header/sr:RequestID", NSMAP)
        assert node is not None and node.text is not None
        rid = RequestId.parse(node.text)
        node.text = str(RequestId(rid.originator, rid.target, rid.counter + 1))
        return sign_envelope(answer, self.endpoint)


@contextmanager
def _target_over_rig(tmp_path: Path) -> Iterator[tuple[type[DuisTarget], Rig]]:
    """An in-process endpoint knowing the default User and the Distributor, and a DuisTarget holding both keys."""
    default = make_user(USER, "default User")
    key, cert = write_pair(default, tmp_path, "default")
    keys = tmp_path / "keys"
    (distributor_cert,) = write_users([DISTRIBUTOR], keys)
    port = free_port()
    known = (str(cert), str(distributor_cert))
    with in_process_endpoint(
        default, tmp_path, deliver_to=f"http://127.0.0.1:{port}/duis/response", user_certs=known
    ) as served:
        trust = tmp_path / "trust.pem"
        trust.write_bytes(served.served.certificates_pem())
        target_class = DuisTarget.configure(
            schema=served.served.endpoint.schema,
            url=served.url,
            user_key=str(key),
            user_cert=str(cert),
            trust=str(trust),
            user_keys=str(keys),
            listen=f"127.0.0.1:{port}",
            response_timeout_s="5",
        )
        try:
            yield target_class, served
        finally:
            target_class.shutdown()


def _session(s1sp: S1SP, target_class: type[DuisTarget], served: Rig, counters: OriginatorCounter) -> UserSession:
    """A User's session sending through ``s1sp``, seeing the rig's estate, trusting what the target trusts."""
    adapter = RecordingAdapter(served.served.endpoint.s1sp.adapter)  # type: ignore[attr-defined]
    return UserSession(
        s1sp,
        adapter,
        find_dmc("secure-esme"),
        served.served.s1sp_credentials,
        served.served.endpoint.schema,
        counters=counters,
        s1sp_certificates=target_class.certificates(),
        observes=frozenset(),
    )


def test_an_e2_over_duis_reaches_the_session_signed_by_the_endpoint_and_answering_its_request(
    tmp_path: Path,
) -> None:
    with _target_over_rig(tmp_path) as (target_class, served):
        target = target_class.create(None, None, None, None, 30.0)  # type: ignore[arg-type]
        assert target.can_act_as(USER) and target.can_act_as(DISTRIBUTOR.lower())
        assert not target.can_act_as(STRANGER) and not target.can_act_as("90-B3-D5-1F-30-03-00-00")
        counters = OriginatorCounter()  # one source for the run, as the plugin keeps: every User's counters rise
        session = _session(target, target_class, served, counters)
        session.user_id = DISTRIBUTOR
        # A device request: acknowledged, then refused E2 by the S1SP and delivered; 11.1: refused at once.
        balance = session.send("1.5", UpdateMeterBalance("PrepaymentMode", 1000), session.meter_id)
        image = UpdateFirmware("AA==", "0000FFFE", (session.meter_id,))
        firmware = session.send("11.1", image, DCC_ID)
        assert balance is not None and firmware is not None
        assert (balance.response_code, balance.success) == ("E2", False)
        assert (firmware.response_code, firmware.success) == ("E2", False)
        for record in session.evidence:
            assert record.response_schema == "valid"
            assert record.signature == "ECDSA P-256/SHA-256 signature verifies"
            assert record.correlation == "matches the request"
            assert "<sr:SMETS1ResponseMessage" not in record.response_xml
            answer = parse_xml(record.response_xml.encode())
            assert verify_element(answer, served.served.envelope_credentials.cert_pem).valid
        exchanges = [found.groups() for line in served.exchanges(2) if (found := EXCHANGE.search(line))]
        assert exchanges == [("/api/v1/serviceT", "200", "I99"), ("/api/v1/serviceD", "200", "E2")]
        assert f" deliver E2 {balance.request_id} -> " in served.deliveries(1)[0]
        # The default User's request is signed with --user-key and carried out.
        session.user_id = USER
        done = session.send("1.5", UpdateMeterBalance("PrepaymentMode", 1000), session.meter_id)
        assert done is not None and (done.response_code, done.success) == ("I0", True)
        # A refusal that answers another request fails the scenario, though the endpoint signed it.
        readdressed = _session(_Readdressed(target, served.served.envelope_credentials), target_class, served, counters)
        readdressed.user_id = DISTRIBUTOR
        with pytest.raises(CorrelationFailure, match=r"does not answer request .*: sr:Header/sr:RequestID is "):
            readdressed.send("1.5", UpdateMeterBalance("PrepaymentMode", 1000), readdressed.meter_id)
        # And one the endpoint did not sign fails it too.
        forged = _session(_Readdressed(target, make_user(None, "not the endpoint")), target_class, served, counters)
        forged.user_id = DISTRIBUTOR
        with pytest.raises(SignatureFailure, match=r"^SRV 1\.5 response \(E2\): "):
            forged.send("1.5", UpdateMeterBalance("PrepaymentMode", 1000), forged.meter_id)


def test_an_e11_over_duis_is_the_users_answer_and_e1_e12_stay_errors(tmp_path: Path) -> None:
    """E11 (the endpoint's own, for an SRV it does not handle, too) is returned; E1 and E12 are errors."""
    with _target_over_rig(tmp_path) as (target_class, _):
        target = target_class.create(None, None, None, None, 30.0)  # type: ignore[arg-type]
        read = rtds("ECS82_4.18_SUCCESS_REQUEST_DUIS.XML")
        unhandled = rtds("CS01a_2.2_SUCCESS_REQUEST_DUIS.XML")  # valid DUIS; no S1SP here handles SRV 2.2
        answer = parse_xml(target.respond(with_counter(unhandled, 1)))
        assert answer.findtext("sr:Header/sr:ResponseCode", "", NSMAP) == "E11"
        assert answer.findtext("sr:Header/sr:RequestID", "", NSMAP) == f"{USER}:00-DB-12-34-56-78-90-A0:1"
        with pytest.raises(DuisRejected, match=r"refused: E1 ") as refused:
            target.respond(with_counter(read, 2, STRANGER))
        assert refused.value.code == "E1"
        wrong_variant = read.replace(b"<sr:CommandVariant>1<", b"<sr:CommandVariant>3<")
        with pytest.raises(DuisRejected, match=r"refused: E12 ") as refused:
            target.respond(with_counter(wrong_variant, 3))
        assert refused.value.code == "E12"


def test_the_targets_default_user_is_the_sessions() -> None:
    assert DEFAULT_USER == USER_ID == USER


def test_a_second_run_against_the_same_endpoint_is_not_a_replay(
    user: User, rig: str, served: Served, tmp_path: Path
) -> None:
    for attempt in ("first", "second"):
        report = str(tmp_path / attempt)
        done = run_duis(user, rig, served, "--clause", "18.16", "-k", "both_reads_report", "--report-dir", report)
        assert done.returncode == 0, done.stdout + done.stderr
        assert _record(tmp_path / attempt)["verdict"] == "CONFORMANT"
    counters = [
        int(re.search(r":(\d+)</sr:RequestID>", e["request_xml"]).group(1))  # type: ignore[union-attr]
        for attempt in ("first", "second")
        for s in _record(tmp_path / attempt)["scenarios"]
        for e in s["evidence"]
    ]
    assert counters == sorted(set(counters)), "counters rise across scenarios and runs"
    assert counters[0] > 1_700_000_000_000, "stamped with the time in milliseconds, as DCC's signing tool does"


# --- a wrong S1SP is caught through DUIS --------------------------------------------------------------


def test_a_wrong_s1sp_served_over_duis_is_not_conformant(user: User, rig: str, tmp_path: Path) -> None:
    with serve_s1sp(user, rig, tmp_path, "--s1sp", "tests.duis_wrong:PennyHighS1SP") as wrong:
        done = run_duis(user, rig, wrong, "--clause", "18.16", "--report-dir", str(tmp_path / "report"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "NOT CONFORMANT" in done.stdout
    record = _record(tmp_path / "report")
    assert record["verdict"] == "NOT CONFORMANT"
    outcomes = {s["name"]: s["outcome"] for s in record["scenarios"]}
    # Every read of a balance is a penny high; the scenario about response codes alone still passes.
    assert sorted(outcomes.values()) == ["failed"] * 6 + ["passed"]
    assert outcomes["The read that returns them is the DUIS response to that read"] == "passed"
    mismatches = {(m["what"], m["expected"], m["actual"]) for s in record["scenarios"] if (m := s["mismatch"])}
    assert ("SRV 4.18 MeterBalance", "2000", "3000") in mismatches, mismatches


# --- a target that stops answering ------------------------------------------------------------------


def test_an_endpoint_that_acknowledges_and_never_delivers_is_inconclusive_in_bounded_time(
    user: User, rig: str, tmp_path: Path
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}/duis/response"  # nobody listens there
    with serve_s1sp(user, rig, tmp_path, deliver_to=nowhere) as silent:
        started = time.monotonic()
        done = run_duis(user, rig, silent, "--clause", "18.16", "--report-dir", str(tmp_path / "report"), timeout="1")
        took = time.monotonic() - started
    assert done.returncode == 3, done.stdout + done.stderr
    record = _record(tmp_path / "report")
    assert record["verdict"] == "INCONCLUSIVE"
    assert {s["outcome"] for s in record["scenarios"]} == {"error"}
    assert all("was acknowledged (I99) but no response came" in s["reason"] for s in record["scenarios"])
    assert all("within 1 s" in s["reason"] for s in record["scenarios"])
    assert took < 60, f"{took:.1f} s"


def test_an_endpoint_killed_mid_run_leaves_the_rest_error_and_the_run_inconclusive(
    user: User, rig: str, tmp_path: Path
) -> None:
    journal = tmp_path / "journal.jsonl"
    with serve_s1sp(user, rig, tmp_path) as doomed:
        assert doomed.process is not None
        run = subprocess.Popen(
            [sys.executable, "-m", "s1sr", *duis_args(user, rig, doomed, "--clause", "18.16", "--journal", str(journal),
                                                   "--report-dir", str(tmp_path / "report"), timeout="3")],
            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while not _finished(journal) and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        doomed.process.kill()  # the endpoint dies after the first scenario, as a crashed system does
        out, err = run.communicate(timeout=120)
    assert run.returncode == 3, out + err
    record = _record(tmp_path / "report")
    assert record["verdict"] == "INCONCLUSIVE"
    outcomes = [s["outcome"] for s in record["scenarios"]]
    assert outcomes[0] == "passed" and set(outcomes[1:]) <= {"passed", "error"} and "error" in outcomes, outcomes
    errors = [s["reason"] for s in record["scenarios"] if s["outcome"] == "error"]
    # Refused connections; the request in flight at the kill may have been acknowledged, its response lost.
    expected = ("cannot reach the DUIS endpoint", "no reply from", "was acknowledged (I99) but no response came")
    assert all(any(reason in r for reason in expected) for r in errors), errors


def _finished(journal: Path) -> int:
    """How many scenarios the journal says are finished (its last line may be half-written)."""
    try:
        lines = journal.read_text().splitlines()
    except FileNotFoundError:
        return 0
    return sum(line.startswith("{") and '"kind":"scenario"' in line.replace(" ", "") for line in lines)


# --- options: one line, exit 2, nothing run ----------------------------------------------------------


def _one_line_exit_2(done: subprocess.CompletedProcess[str], line: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("s1sr: error: " + line), done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr


def test_options_of_one_target_are_refused_with_the_other(user: User, tmp_path: Path) -> None:
    _one_line_exit_2(
        s1sr("run", "--duis-url", "http://127.0.0.1:8079", "--report-dir", str(tmp_path / "r")),
        "--duis-url: only for --target duis; add --target duis, or leave --duis-url out",
    )
    assert not (tmp_path / "r").exists()
    duis = ("run", "--target", "duis", "--duis-url", "http://127.0.0.1:8079", "--user-key", str(user.key),
            "--user-cert", str(user.cert), "--trust", str(user.cert))  # fmt: skip
    _one_line_exit_2(
        s1sr(*duis, "--adapter", "remote", "--device-url", "http://127.0.0.1:9", "--s1sp", "reference"),
        "--s1sp: not for --target duis: the S1SP under test is the one behind the DUIS endpoint;",
    )
    _one_line_exit_2(
        s1sr(*duis),
        "--adapter simulated: --target duis needs the rig the served S1SP drives, not an in-process simulation;"
        " give --adapter remote --device-url URL",
    )
    _one_line_exit_2(
        s1sr(*duis, "--adapter", "remote", "--device-url", "http://127.0.0.1:9", "--workers", "2"),
        "--workers: the DUIS target runs in one process: the endpoint requires strictly rising counters per User,"
        " and worker processes would replay each other's; leave it out",
    )
    _one_line_exit_2(
        s1sr("run", "--target", "duis", "--adapter", "remote", "--duis-url", "http://127.0.0.1:8079"),
        "--target duis: the DUIS target needs --user-key, --user-cert, --trust;",
    )
    _one_line_exit_2(
        s1sr(*duis, "--adapter", "remote", "--response-timeout", "0"), "--response-timeout: 0 s is outside (0, 600] s"
    )


def test_a_user_key_that_is_not_the_certificates_or_a_busy_listener_is_refused(
    user: User, rig: str, served: Served, tmp_path: Path
) -> None:
    other, _ = write_pair(make_user(USER), tmp_path, "other")
    mismatched = User(other, user.cert)
    _one_line_exit_2(
        run_duis(mismatched, rig, served, "--report-dir", str(tmp_path / "r")),
        f"--user-key {other}, --user-cert {user.cert}: the signing key and the certificate do not belong together",
    )
    with _listening() as port:
        busy = Served(served.url, served.trust, f"127.0.0.1:{port}")
        _one_line_exit_2(
            run_duis(user, rig, busy, "--report-dir", str(tmp_path / "r")),
            f"--response-listen 127.0.0.1:{port}: cannot listen for responses",
        )
    assert not (tmp_path / "r").exists()


@contextmanager
def _listening() -> Iterator[int]:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as busy:
        yield busy.getsockname()[1]


# --- --user-keys: read before anything runs, every fault one line naming the file ---------------------------


def _keys_refused(folder: Path) -> str:
    with pytest.raises(ConfigError) as refused:
        read_user_keys(folder)
    return refused.value.line()


def test_user_keys_are_read_by_the_user_their_certificate_names(tmp_path: Path) -> None:
    distributor = make_user(DISTRIBUTOR)
    write_pair(distributor, tmp_path, "ed")
    write_pair(make_user("90-b3-d5-1f-30-06-00-00"), tmp_path, "gt")
    (tmp_path / "README").write_text("a lone file is left alone")
    (tmp_path / "ca.pem").write_bytes(make_user(None).cert_pem)  # a certificate without a key, too
    found = read_user_keys(tmp_path)
    assert sorted(found) == [DISTRIBUTOR, "90-B3-D5-1F-30-06-00-00"]
    assert found[DISTRIBUTOR].key_pem == distributor.key_pem
    assert found[DISTRIBUTOR].cert_pem == distributor.cert_pem
    assert found[DISTRIBUTOR].source == f"{tmp_path / 'ed.key'} (User {DISTRIBUTOR})"


def test_a_user_key_without_its_certificate_or_with_another_is_refused_naming_the_file(tmp_path: Path) -> None:
    key, cert = write_pair(make_user(DISTRIBUTOR), tmp_path, "ed")
    cert.unlink()
    assert _keys_refused(tmp_path) == (
        f"--user-keys {key}: has no certificate beside it (ed.pem); put the certificate of this key beside it as ed.pem"
    )
    cert.write_bytes(make_user(DISTRIBUTOR).cert_pem)  # the same User, another key
    assert _keys_refused(tmp_path) == (
        f"--user-keys {key}: is not the key of ed.pem (the certificate holds another public key);"
        " put each key beside its own certificate"
    )
    _, anonymous = write_pair(make_user(None), tmp_path, "ed")
    assert _keys_refused(tmp_path) == (
        f"--user-keys {anonymous}: names no User (no x500UniqueIdentifier in its subject);"
        " give the User's certificate, whose subject names its User ID as SMKI's do"
    )
    key.write_bytes(b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    assert _keys_refused(tmp_path) == (
        f"--user-keys {key}: is not an unencrypted PEM private key; give the User's PEM P-256 signing key"
    )


def test_two_keys_for_one_user_are_refused(tmp_path: Path) -> None:
    write_pair(make_user(DISTRIBUTOR), tmp_path, "a")
    second, _ = write_pair(make_user(DISTRIBUTOR), tmp_path, "b")
    assert _keys_refused(tmp_path) == (
        f"--user-keys {second}: is a second key for User {DISTRIBUTOR} (a.key is one); keep one key per User in"
        " the folder"
    )


def test_a_user_keys_folder_is_bounded_in_entries_and_file_size(tmp_path: Path) -> None:
    assert _keys_refused(tmp_path / "missing") == (
        f"--user-keys {tmp_path / 'missing'}: no such folder;"
        " name the folder holding NAME.key and NAME.pem for each other User"
    )
    assert _keys_refused(tmp_path) == (
        f"--user-keys {tmp_path}: holds no User key (NAME.key, with its certificate NAME.pem beside it);"
        " put each other test User's PEM P-256 key and certificate there"
    )
    credentials = make_user(DISTRIBUTOR)
    key, cert = write_pair(credentials, tmp_path, "ed")
    assert _keys_refused(cert).startswith(f"--user-keys {cert}: is not a folder;")
    for index in range(254):  # 256 entries with the key and its certificate: the most read
        (tmp_path / f"note-{index}.txt").write_text("")
    key.write_bytes(credentials.key_pem.ljust(65_536, b"\n"))  # the largest file read
    assert sorted(read_user_keys(tmp_path)) == [DISTRIBUTOR]
    key.write_bytes(credentials.key_pem.ljust(65_537, b"\n"))
    assert _keys_refused(tmp_path) == f"--user-keys {key}: is over 65,536 bytes; give one PEM key or certificate"
    key.write_bytes(credentials.key_pem)
    (tmp_path / "note-254.txt").write_text("")
    assert _keys_refused(tmp_path) == (
        f"--user-keys {tmp_path}: holds more than 256 entries;"
        " give a folder holding only the test Users' keys and certificates"
    )


def test_user_keys_are_an_option_of_the_duis_target_refused_in_one_line(
    user: User, served: Served, rig: str, tmp_path: Path
) -> None:
    keys = tmp_path / "keys"
    keys.mkdir()
    lone, _ = write_pair(make_user(DISTRIBUTOR), keys, "ed")
    (keys / "ed.pem").unlink()
    report = tmp_path / "report"
    _one_line_exit_2(
        s1sr(*duis_args(user, rig, served, "--user-keys", str(keys), "--report-dir", str(report))),
        f"--user-keys {lone}: has no certificate beside it (ed.pem);",
    )
    _one_line_exit_2(
        s1sr("run", "--user-keys", str(keys), "--report-dir", str(report)),
        "--user-keys: only for --target duis; add --target duis, or leave --user-keys out",
    )
    assert not report.exists()
    with pytest.raises(ConfigError) as refused:
        check_target("in-process", {"user_keys": keys}, None, None, None, None, "simulated", "--s1sr-")
    assert refused.value.line() == (
        "--s1sr-user-keys: only for --s1sr-target duis; add --s1sr-target duis, or leave --s1sr-user-keys out"
    )


def test_serve_s1sp_refuses_meter_ids_or_an_unreachable_rig_in_one_line(user: User) -> None:
    serve = ("serve-s1sp", "--port", "0", "--response-url", "http://127.0.0.1:9/r", "--user-cert", str(user.cert))
    _one_line_exit_2(
        s1sr(*serve, "--adapter", "remote", "--device-url", "http://127.0.0.1:9", "--meter-id", METER),
        "--meter-id: --meter-id places meters in the built-in simulation, not on the estate of --adapter remote;",
    )
    _one_line_exit_2(s1sr(*serve, "--adapter", "remote"), "--adapter remote: the remote adapter needs --device-url URL")
    _one_line_exit_2(
        s1sr(*serve, "--adapter", "remote", "--device-url", f"http://127.0.0.1:{free_port()}"), "--device-url: "
    )


# --- the pieces: Command Variants, counters, what a session observes ---------------------------------


@pytest.mark.parametrize(
    ("srv", "body", "variant"),
    [
        ("4.18", ReadMeterBalance(), 1),
        ("1.5", UpdateMeterBalance("PrepaymentMode", 1000), 4),
        ("11.3", ActivateFirmware("00" * 32), 4),
        ("11.1", UpdateFirmware("AA==", "1", (METER,)), 8),
    ],
)
def test_requests_carry_the_command_variant_duis_names_for_their_srv(srv: str, body: Any, variant: int) -> None:
    xml = build_request(ServiceRequest(RequestId(USER, METER, 1001), srv, body))
    assert f"<sr:CommandVariant>{variant}</sr:CommandVariant>".encode() in xml


def test_the_counter_source_rises_across_threads_and_starts_where_asked() -> None:
    counters = OriginatorCounter()
    assert counters.last == 1000 and counters.next() == 1001
    seen: list[int] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(500):
            value = counters.next()
            with lock:
                seen.append(value)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(1002, 3002))
    before = int(time.time() * 1000)
    assert before <= OriginatorCounter.from_clock().next() - 1 <= int(time.time() * 1000)


def test_a_session_observes_the_whole_estate_unless_told_otherwise() -> None:
    dmc = find_dmc("secure-esme")
    adapter = RecordingAdapter(SimulatedAdapter.create(dmc, {}))
    s1sp = ReferenceS1SP.create(load_catalogue("4.3"), dmc, adapter, generated_credentials(), 30.0)
    session = UserSession(s1sp, adapter, dmc, generated_credentials())
    assert session.observes == frozenset({"device-commands", "device-state", "s1sp-clock"})
    assert session.not_observed == []
    shared = OriginatorCounter(5000)
    over_duis = UserSession(s1sp, adapter, dmc, generated_credentials(), counters=shared, observes=frozenset())
    assert over_duis.observes == frozenset()
    assert over_duis.request("4.18", ReadMeterBalance(), METER).request_id.counter == 5001
    assert UserSession(s1sp, adapter, dmc, generated_credentials(), counters=shared).counter == 5001


# --- an S1SP behind DUIS keeps its caches across scenarios and runs ----------------------------------------
# With MP162 in force, serve-s1sp answers a 4.8.1 read that an earlier scenario sent less than an hour before
# from its cache: values read from the rig as that scenario left it. A check of those values against this
# scenario's rig is not judged (the scenario is not applicable, its reason says why, the step is not
# observable) and the run says so; the same scenario alone on a fresh endpoint is judged, and an S1SP that
# loses the values fails it (s1sr.earlier_reads).

ROLES = "features/mp162-half-hourly-settlement.feature:13[secure-esme]"
VALUES = "features/mp162-half-hourly-settlement.feature:70[secure-esme]"
ONLY_VALUES = ("--", "-k", "reads_the_halfhour_import_values_the_meter_recorded")
NOT_JUDGED = (
    "not judged on this target, which may answer from a cache filled before the scenario: the S1SP answered "
    "SRV 4.8.1 as it answered the same read sent "
)
WHAT_FAILED = (
    " s before by features/mp162-half-hourly-settlement.feature:13[secure-esme] (cache period 3600 s); "
    "what failed: the half-hour values the response carries: expected 2025-12-31T00:00:00Z 150 Wh; "
    "2025-12-31T00:30:00Z 0 Wh; 2025-12-31T23:30:00Z 275 Wh, got no entry"
)


def _run_mp162(user: User, users: Users, rig: str, endpoint: Served, report: Path, *args: str) -> dict[str, Any]:
    done = s1sr(
        *duis_args(
            user, rig, endpoint, "--modification", "MP162", "--clause", "MP162.1", "--report-dir", str(report),
            *args, users=users,
        )
    )  # fmt: skip
    record = _record(report)
    record["exit"] = done.returncode
    record["stdout"] = done.stdout
    return record


def test_a_read_answered_from_an_earlier_scenarios_cache_is_not_judged_and_the_run_says_so(
    user: User, users: Users, tmp_path: Path
) -> None:
    process, rig = _start("serve-device", "--dmc", "secure-esme", "--port", "0")
    try:
        with serve_s1sp(user, rig, tmp_path, "--s1sr-version", "4.3+MP162", users=users) as endpoint:
            first = _run_mp162(user, users, rig, endpoint, tmp_path / "first")
            again = _run_mp162(user, users, rig, endpoint, tmp_path / "again")
    finally:
        _stop(process)
    for record in (first, again):
        scenarios = _by_id(record)
        assert record["exit"] == 0, record["stdout"]
        assert scenarios[ROLES]["outcome"] == "passed"  # it judges response codes, which no cache changes
        values = scenarios[VALUES]
        assert values["outcome"] == "not applicable"
        head, _, tail = values["reason"].partition(WHAT_FAILED)
        assert head.startswith(NOT_JUDGED) and tail == "", values["reason"]
        assert 0.0 <= float(head.removeprefix(NOT_JUDGED)) < 60.0
        steps = [step["status"] for step in values["steps"]]
        assert steps == ["passed", "passed", "passed", "passed", "not observable"]
        assert record["verdict"] == "CONFORMANT"
        assert record["verdict_reason"].endswith(
            "; 1 scenario(s) not judged: the S1SP may have answered them from a cache filled before they began "
            "(run them in process, or each on a freshly started endpoint)"
        )
        assert {s["outcome"] for i, s in scenarios.items() if i != VALUES} <= {"passed", "not applicable"}


def test_alone_on_a_fresh_endpoint_the_read_is_judged_and_an_s1sp_that_loses_the_values_fails(
    user: User, users: Users, tmp_path: Path
) -> None:
    (tmp_path / "good").mkdir()
    (tmp_path / "bad").mkdir()
    process, rig = _start("serve-device", "--dmc", "secure-esme", "--port", "0")
    try:
        with serve_s1sp(user, rig, tmp_path / "good", "--s1sr-version", "4.3+MP162", users=users) as endpoint:
            good = _run_mp162(user, users, rig, endpoint, tmp_path / "good-run", *ONLY_VALUES)
        faulty = "tests.s1sp_variants:ForgetsHalfHours"
        with serve_s1sp(
            user, rig, tmp_path / "bad", "--s1sr-version", "4.3+MP162", "--s1sp", faulty, users=users
        ) as endpoint:
            bad = _run_mp162(user, users, rig, endpoint, tmp_path / "bad-run", *ONLY_VALUES)
    finally:
        _stop(process)
    assert [s["id"] for s in good["scenarios"]] == [VALUES] == [s["id"] for s in bad["scenarios"]]
    assert (good["exit"], good["verdict"], good["scenarios"][0]["outcome"]) == (0, "CONFORMANT", "passed")
    assert good["verdict_reason"] == "all 1 applicable scenario(s) passed"
    assert (bad["exit"], bad["verdict"], bad["scenarios"][0]["outcome"]) == (1, "NOT CONFORMANT", "failed")
    assert bad["scenarios"][0]["reason"] == (
        "the half-hour values the response carries: expected 2025-12-31T00:00:00Z 150 Wh; "
        "2025-12-31T00:30:00Z 0 Wh; 2025-12-31T23:30:00Z 275 Wh, got no entry"
    )
