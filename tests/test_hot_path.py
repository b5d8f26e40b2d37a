"""The hot path made fast, pinned to what it wrote and refused before.

``tests/golden/build-response.txt`` holds three SMETS1 Responses as the release before the fast path
wrote them (lxml's ElementMaker, a copy of the SMETS1 Response signed then moved): a profile-data read
with repeated log entries, a failure with two outcomes (one with XML's special characters, one cut at
250 characters) and a success without payload. Only the ECDSA SignatureValue (random per signature) and
the generated certificate's serial number are masked; the DigestValue, over the exclusive C14N of the
signed SMETS1 Response, is kept, so a byte that moves inside what is signed fails here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from s1sr.duis.request import RequestId
from s1sr.duis.response import Outcome, SMETS1Response, build_response, parse_response
from s1sr.duis.safe_xml import parse_xml
from s1sr.duis.signing import generated_credentials, verify_element
from s1sr.errors import InputError

GOLDEN = Path(__file__).parent / "golden" / "build-response.txt"
RID = RequestId("90-B3-D5-1F-30-01-00-00", "00-DB-12-34-56-78-90-A0", 1000000000000001)
AT = datetime(2026, 11, 26, 21, 0, 5, tzinfo=UTC)
CASES = [
    SMETS1Response(
        RID,
        "4.8.1",
        "ECS70",
        True,
        {
            "LogEntry[1]/Timestamp": "2026-11-25T00:00:00Z",
            "LogEntry[1]/Electricity/PrimaryValue": 12,
            "LogEntry[2]/Timestamp": "2026-11-25T00:30:00Z",
            "LogEntry[2]/Electricity/PrimaryValue": 0,
        },
        timestamp=AT,
    ),
    SMETS1Response(
        RID, "2.2", "ECS04", False, {}, [Outcome(3, 1, 'refused: 1 < 2 & "q"'), Outcome(0, 2, "x" * 260)], "I0", AT
    ),
    SMETS1Response(
        RequestId("90-B3-D5-1F-30-01-00-00", "00-DB-12-34-56-78-90-A1", 7), "1.6", "CS02b", True, {}, timestamp=AT
    ),
]


def _masked(data: bytes) -> str:
    text = re.sub(r"(<ds:SignatureValue>)[^<]*", r"\1…", data.decode("utf-8"))
    return re.sub(r"(<ds:X509SerialNumber>)[^<]*", r"\1…", text)


def test_responses_are_the_bytes_the_release_before_wrote_and_verify() -> None:
    credentials = generated_credentials()
    expected = GOLDEN.read_text(encoding="utf-8").split("=====\n")[:3]
    for case, page in zip(CASES, expected, strict=True):
        data = build_response(case, credentials)
        assert _masked(data) + "\n" == page, case.srv
        root = parse_xml(data)
        signed = root.find(".//{http://www.dccinterface.co.uk/ServiceUserGateway}SMETS1SignedResponse")
        assert signed is not None
        assert verify_element(signed, credentials.cert_pem).valid, case.srv
        parsed = parse_response(root, credentials.cert_pem)
        assert parsed.signature.valid and parsed.response.request_id == case.request_id
        assert (parsed.response.success, parsed.response.srv) == (case.success, case.srv)
        assert [o.code for o in parsed.response.outcomes] == [o.code for o in case.outcomes]


def test_a_refused_document_leaves_nothing_behind_for_the_next_one_parsed() -> None:
    """The parsers are made once per thread and reused: a refusal midway must not leak into the next parse."""
    good = b"<?xml version='1.0' encoding='UTF-8'?><a><b x='1'>text</b></a>"
    assert parse_xml(good).findtext("b") == "text"
    with pytest.raises(InputError, match="DOCTYPE"):
        parse_xml(b"<?xml version='1.0'?><!DOCTYPE a [<!ENTITY e 'boom'>]><a>&e;</a>")
    assert parse_xml(good).findtext("b") == "text"
    with pytest.raises(InputError):
        parse_xml(b"<?xml version='1.0'?><a><b>cut short")
    with pytest.raises(InputError):
        parse_xml("<a>caf\u00e9</a>".encode("latin-1"))  # not UTF-8
    again = parse_xml(b"<c>\n<d/>\n</c>")
    assert again.tag == "c" and [child.tag for child in again] == ["d"]


def test_a_meter_snapshot_is_asdict_of_its_state_and_shares_nothing_with_it() -> None:
    """The snapshot taken around every request is written by hand for speed: it must be ``asdict``'s."""
    from dataclasses import asdict

    from s1sr.catalogue import find_dmc
    from s1sr.devices.simulated import LoadLimit, SimulatedMeter

    model = find_dmc("secure-esme").meter
    meter = SimulatedMeter("00-DB-12-34-56-78-90-A0", model)
    state = meter.state
    state.meter_balance_pence = -150
    state.load_limit = LoadLimit(7000, 1800, 60, "armed")
    state.metering.import_profile.update({"2026-11-25T00:00:00Z": 12, "2026-11-25T00:30:00Z": 0})
    state.metering.import_register = 123456
    snapshot = meter.snapshot()
    assert snapshot == {"device_model": model.id, **asdict(state)}
    assert list(snapshot) == ["device_model", *asdict(state)]  # asdict's order
    assert snapshot["load_limit"] == {
        "power_threshold_w": 7000,
        "period_s": 1800,
        "restoration_period_s": 60,
        "supply_state": "armed",
    }
    snapshot["metering"]["import_profile"]["2026-11-25T01:00:00Z"] = 5  # a copy, not the meter's own log
    snapshot["load_limit"]["period_s"] = 1
    assert len(state.metering.import_profile) == 2 and state.load_limit.period_s == 1800
    state.load_limit = None
    assert meter.snapshot()["load_limit"] is None
