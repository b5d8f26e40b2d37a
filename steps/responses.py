"""Steps about the last request's outcome: its response, the device commands, Annex C fields."""

from pytest_bdd import parsers, then

from s1sr.devices.commands import DeviceCommand
from s1sr.gherkin import expect
from s1sr.observability import DEVICE_COMMANDS, DEVICE_STATE, device_side
from s1sr.session import UserSession


def _command(user: UserSession, name: str, device_id: str | None = None) -> DeviceCommand:
    sent = [c for c, _ in user.commands_sent()]
    for command in sent:
        if command.name == name and (device_id is None or command.device_id == device_id):
            return command
    names = ", ".join(f"{c.name} to {c.device_id}" for c in sent) or "none"
    raise AssertionError(f"expected {name} to {device_id or 'a device'}; the S1SP sent: {names}")


@then("the request succeeds")
def request_succeeds(user: UserSession) -> None:
    response = user.require_response()
    assert response.success, f"expected success, the request was rejected: {response.reason()}"
    failed = [o for o in response.outcomes if o.code != 0]
    assert not failed, f"success reported with failing outcomes: {response.reason()}"


@then("the request is rejected")
def request_rejected(user: UserSession) -> None:
    response = user.require_response()
    assert not response.success, "expected the request to be rejected, it succeeded"


@then(parsers.re(r'the request is rejected with outcome (?P<code>\d+) naming "(?P<text>[^"]+)"'))
def rejected_with(user: UserSession, code: str, text: str) -> None:
    response = user.require_response()
    assert not response.success, "expected the request to be rejected, it succeeded"
    found = [o for o in response.outcomes if o.code == int(code) and text in o.text]
    assert found, f'expected outcome {code} naming "{text}"; got {[(o.code, o.text) for o in response.outcomes]}'


@then(parsers.re(r'the response reports outcome (?P<code>\d+) at position (?P<position>\d+) naming "(?P<text>[^"]+)"'))
def outcome_at(user: UserSession, code: str, position: str, text: str) -> None:
    response = user.require_response()
    at = [o for o in response.outcomes if o.position == int(position)]
    assert at, f"no outcome at position {position}; got {[(o.position, o.code) for o in response.outcomes]}"
    expect(f"outcome at position {position} ({at[0].text})", code, at[0].code)
    assert text in at[0].text, f'position {position}: expected text naming "{text}", got "{at[0].text}"'


@then(parsers.re(r"the response reports (?P<field>\w+) (?P<expected>\S+)"))
def response_reports(user: UserSession, field: str, expected: str) -> None:
    response = user.require_response()
    expect(f"response {field}", expected, response.values.get(field, "(absent)"))


@then(parsers.re(r'the S1SP refuses the request naming "(?P<text>[^"]+)"'))
def refused(user: UserSession, text: str) -> None:
    assert user.last_refusal is not None, "expected the S1SP to refuse the request as invalid DUIS; it answered"
    assert text in user.last_refusal.line(), f'refusal should name "{text}": {user.last_refusal.line()}'


@then(
    parsers.re(r"the (?P<device>meter|Communications Hub) received (?P<name>\w+) with (?P<field>\w+) (?P<expected>\S+)")
)
@device_side(DEVICE_COMMANDS)
def received_with(user: UserSession, device: str, name: str, field: str, expected: str) -> None:
    target = user.meter_id if device == "meter" else user.comms_hub_id
    command = _command(user, name, target)
    assert field in command.fields, f"{name} has no field {field}; it has {sorted(command.fields)}"
    expect(f"{name}.{field} received by the {device}", expected, command.fields[field])


@then(parsers.re(r"device (?P<device>[0-9A-F-]{23}) received (?P<name>\w+) with (?P<field>\w+) (?P<expected>\S+)"))
@device_side(DEVICE_COMMANDS)
def device_received_with(user: UserSession, device: str, name: str, field: str, expected: str) -> None:
    command = _command(user, name, device)
    assert field in command.fields, f"{name} has no field {field}; it has {sorted(command.fields)}"
    expect(f"{name}.{field} received by {device}", expected, command.fields[field])


@then(parsers.re(r"the (?P<device>meter|Communications Hub) received (?P<name>\w+)$"))
@device_side(DEVICE_COMMANDS)
def received(user: UserSession, device: str, name: str) -> None:
    _command(user, name, user.meter_id if device == "meter" else user.comms_hub_id)


@then("no device command was sent")
@device_side(DEVICE_COMMANDS)
def no_command(user: UserSession) -> None:
    sent = user.commands_sent()
    assert not sent, f"expected no device command; the S1SP sent {[c.name for c, _ in sent]}"


@then("the meter state is unchanged by the last request")
@device_side(DEVICE_STATE)
def unchanged(user: UserSession) -> None:
    before, after = user.state_before_last, user.state_after_last
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    assert not changed, f"the last request changed the state of {', '.join(changed)}"


@then(parsers.re(r"the field (?P<field>\w+) of (?P<name>\w+) came from Annex C with value (?P<expected>\S+)"))
@device_side(DEVICE_COMMANDS)
def from_annex_c(user: UserSession, field: str, name: str, expected: str) -> None:
    command = _command(user, name)
    source = command.defaults.get(field, "the request")
    assert source.startswith("Annex C"), f"{name}.{field} came from {source}, not Annex C"
    expect(f"Annex C value of {name}.{field}", expected, command.fields[field])


@then(parsers.re(r'the field (?P<field>\w+) of (?P<name>\w+) came from "(?P<source>[^"]+)"'))
@device_side(DEVICE_COMMANDS)
def from_source(user: UserSession, field: str, name: str, source: str) -> None:
    command = _command(user, name)
    expect(f"source of {name}.{field}", source, command.defaults.get(field, "the request"))


@then(parsers.re(r"the field (?P<field>\w+) of (?P<name>\w+) came from the request"))
@device_side(DEVICE_COMMANDS)
def from_request(user: UserSession, field: str, name: str) -> None:
    command = _command(user, name)
    assert field in command.fields, f"{name} has no field {field}"
    assert field not in command.defaults, f"{name}.{field} came from {command.defaults[field]}, not the request"
