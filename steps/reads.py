"""Steps that read values back through DUIS (SRV 4.3, 4.13, 4.18) or the adapter's snapshot."""

from typing import Any

import pytest
from pytest_bdd import given, parsers, then

from s1sr.duis.namespaces import NSMAP
from s1sr.duis.request import (
    ReadInstantaneousPrepayValues,
    ReadMeterBalance,
    ReadPrepaymentConfiguration,
    RequestBody,
)
from s1sr.duis.safe_xml import parse_xml
from s1sr.gherkin import expect
from s1sr.observability import DEVICE_STATE, can_observe, device_side
from s1sr.session import UserSession

READS: dict[str, RequestBody] = {
    "4.3": ReadInstantaneousPrepayValues(),
    "4.13": ReadPrepaymentConfiguration(),
    "4.18": ReadMeterBalance(),
}


@then(parsers.re(r"SRV (?P<srv>4\.3|4\.13|4\.18) reports (?P<field>[\w/]+) (?P<expected>\S+)"))
def srv_reports(user: UserSession, srv: str, field: str, expected: str) -> None:
    response = user.read(srv, READS[srv])
    assert response.success, f"SRV {srv} read failed: {response.reason()}"
    assert field in response.values, f"SRV {srv} response has no {field}; it has {sorted(response.values)}"
    expect(f"SRV {srv} {field}", expected, response.values[field])


@then(
    parsers.re(
        r"the DUIS response to a SRV (?P<srv>4\.3|4\.13|4\.18) read names ServiceReference (?P<reference>\S+), "
        r"ServiceReferenceVariant (?P<variant>\S+) and ResponseCode (?P<code>\w+)"
    )
)
def read_response_names(user: UserSession, srv: str, reference: str, variant: str, code: str) -> None:
    response = user.read(srv, READS[srv])
    expect("sr:Header/sr:ResponseCode", code, response.response_code)
    expect("SMETS1Response Header/ServiceReference", reference, response.service_reference)
    expect("SMETS1Response Header/ServiceReferenceVariant", variant, response.srv)
    # The envelope names them again, outside the signed part, for a User's routing.
    root = parse_xml(user.evidence[-1].response_xml.encode("utf-8"), f"SRV {srv} response")
    message = "sr:Body/sr:SMETS1ResponseMessage/sr:"
    for name, expected in (("ServiceReference", reference), ("ServiceReferenceVariant", variant)):
        expect(f"SMETS1ResponseMessage/{name}", expected, root.findtext(message + name, "(absent)", NSMAP))


@then(parsers.re(r"the meter is in (?P<mode>prepayment|credit) mode"))
def meter_is_in_mode(user: UserSession, mode: str) -> None:
    if user.fuel == "electricity":
        # DUIS carries the ESME's payment mode in SRV 4.13; read it as a User would.
        response = user.read("4.13", READS["4.13"])
        actual = str(response.values.get("Electricity/PaymentMode", "")).lower()
    else:
        # SRV 4.13 carries no payment mode for gas: the adapter's snapshot is the witness.
        if not can_observe(user, DEVICE_STATE):
            return
        actual = str(user.meter_state().get("payment_mode", ""))
    expect("payment mode", mode, actual or "unknown")


def _path(state: dict[str, Any], path: str) -> Any:
    node: Any = state
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            raise AssertionError(f"the device state has no {path}")
        node = node[part]
    return node


@then(parsers.re(r"the (?P<device>meter|Communications Hub) state shows (?P<path>\S+) (?P<expected>\S+)"))
@device_side(DEVICE_STATE)
def state_shows(user: UserSession, device: str, path: str, expected: str) -> None:
    state = user.meter_state(user.meter_id if device == "meter" else user.comms_hub_id)
    expect(f"{device} state {path}", expected, _path(state, path))


@then(parsers.re(r"the state of device (?P<device>[0-9A-F-]{23}) shows (?P<path>\S+) (?P<expected>\S+)"))
@device_side(DEVICE_STATE)
def device_state_shows(user: UserSession, device: str, path: str, expected: str) -> None:
    expect(f"state of {device} {path}", expected, _path(user.meter_state(device), path))


@then(parsers.re(r"the (?P<device>meter|Communications Hub) state has no (?P<path>\S+)"))
@device_side(DEVICE_STATE)
def state_has_no(user: UserSession, device: str, path: str) -> None:
    state = user.meter_state(user.meter_id if device == "meter" else user.comms_hub_id)
    try:
        found = _path(state, path)
    except AssertionError:
        return
    raise AssertionError(f"the {device} state still has {path} ({found})")


@pytest.fixture
def noted_states() -> dict[str, dict[str, Any]]:
    """The device states a scenario noted before acting, by device ID."""
    return {}


@given(parsers.re(r"the state of device (?P<device>[0-9A-F-]{23}) is noted"))
@device_side(DEVICE_STATE)
def note_device_state(user: UserSession, noted_states: dict[str, dict[str, Any]], device: str) -> None:
    noted_states[device] = user.meter_state(device)


@then(parsers.re(r"the state of device (?P<device>[0-9A-F-]{23}) is as noted"))
@device_side(DEVICE_STATE)
def device_state_as_noted(user: UserSession, noted_states: dict[str, dict[str, Any]], device: str) -> None:
    assert device in noted_states, f"note the state of device {device} first"
    before, after = noted_states[device], user.meter_state(device)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert not changed, f"the state of device {device} changed in {', '.join(changed)}"
