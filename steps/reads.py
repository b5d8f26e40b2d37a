"""Steps that read values back through DUIS (SRV 4.3, 4.13, 4.18) or the adapter's snapshot."""

from typing import Any

from pytest_bdd import parsers, then

from s1sr.duis.request import ReadInstantaneousPrepayValues, ReadMeterBalance, ReadPrepaymentConfiguration
from s1sr.gherkin import expect
from s1sr.session import UserSession

READS = {
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


@then(parsers.re(r"the meter is in (?P<mode>prepayment|credit) mode"))
def meter_is_in_mode(user: UserSession, mode: str) -> None:
    if user.fuel == "electricity":
        # DUIS carries the ESME's payment mode in SRV 4.13; read it as a User would.
        response = user.read("4.13", READS["4.13"])
        actual = str(response.values.get("Electricity/PaymentMode", "")).lower()
    else:
        # SRV 4.13 carries no payment mode for gas: the adapter's snapshot is the witness.
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
def state_shows(user: UserSession, device: str, path: str, expected: str) -> None:
    state = user.meter_state(user.meter_id if device == "meter" else user.comms_hub_id)
    expect(f"{device} state {path}", expected, _path(state, path))
