"""Steps about the last request's outcome: its response, the device commands, Annex C fields.

Outcomes are matched by class, never by one device's or one S1SP's sentence: a feature names
the class (``"update in progress on the device's HAN"``) and the catalogue gives the outcome
code that carries it. Where the reading says what a refusal names (a limit), or the scenario
names a device or its HAN, the step looks for that in the outcome's text: a HAN by the name the
estate under test gives it, a device by its EUI-64, a limit as a whole number however written.
Where a command field came from (the request, Annex C) is decided here from the catalogue and
the request the User sent (:mod:`s1sr.catalogue.sources`); the S1SP's own label is evidence only.
"""

from lxml import etree
from pytest_bdd import parsers, then

from s1sr.catalogue import Catalogue, OutcomeClass
from s1sr.catalogue.naming import names_number, names_word
from s1sr.catalogue.sources import field_source
from s1sr.devices.commands import DeviceCommand
from s1sr.duis.namespaces import NSMAP
from s1sr.duis.response import Outcome, SMETS1Response
from s1sr.duis.safe_xml import parse_xml
from s1sr.errors import ConfigError
from s1sr.gherkin import Mismatch, as_text, expect
from s1sr.observability import DEVICE_COMMANDS, DEVICE_STATE, device_side
from s1sr.plugin.settings import RunSettings
from s1sr.session import Evidence, UserSession

#: What an outcome may be expected to name: a limit (a whole number of watts), a device's HAN, a device.
NAMING = (
    r"(?: naming (?:the limit (?P<limit>\d+) W"
    r"|the HAN of device (?P<han_of>[0-9A-F-]{23})"
    r"|device (?P<device>[0-9A-F-]{23})))?"
)


def _command(user: UserSession, name: str, device_id: str | None = None) -> DeviceCommand:
    sent = [c for c, _ in user.commands_sent()]
    for command in sent:
        if command.name == name and (device_id is None or command.device_id == device_id):
            return command
    names = ", ".join(f"{c.name} to {c.device_id}" for c in sent) or "none"
    raise AssertionError(f"expected {name} to {device_id or 'a device'}; the S1SP sent: {names}")


def _outcome_class(catalogue: Catalogue, name: str) -> OutcomeClass:
    return catalogue.outcome(name)


def _describe(catalogue: Catalogue, outcomes: list[Outcome]) -> str:
    """Outcomes as a reader wants them in a failure: position, code, its class, the text."""
    parts = []
    for o in outcomes:
        found = catalogue.outcome_of(o.code)
        what = f'"{found.name}"' if found else "no class"
        parts.append(f'position {o.position}: outcome {o.code} ({what}) "{o.text}"')
    return "; ".join(parts) or "no outcome"


def _check_naming(
    user: UserSession, outcome: Outcome, limit: str | None, han_of: str | None, device: str | None
) -> None:
    """The outcome's text names what the scenario expects it to (nothing when none is given)."""
    if limit is not None:
        assert names_number(outcome.text, int(limit)), (
            f'position {outcome.position}: expected the outcome to name the limit {limit} W: "{outcome.text}"'
        )
    if han_of is not None:
        han = user.adapter.device(han_of).han  # the estate's own name for the HAN
        assert names_word(outcome.text, han), (
            f'position {outcome.position}: expected the outcome to name {han}, the HAN of {han_of}: "{outcome.text}"'
        )
    if device is not None:
        assert names_word(outcome.text, device), (
            f'position {outcome.position}: expected the outcome to name device {device}: "{outcome.text}"'
        )


@then("the request succeeds")
def request_succeeds(user: UserSession, s1sr_settings: RunSettings) -> None:
    response = user.require_response()
    assert response.success, f"expected success, the request was rejected: {response.reason()}"
    accepted = _outcome_class(s1sr_settings.catalogue, "accepted")
    failed = [o for o in response.outcomes if o.code != accepted.code]
    assert not failed, f"success reported with failing outcomes: {_describe(s1sr_settings.catalogue, failed)}"


@then("the request is rejected")
def request_rejected(user: UserSession) -> None:
    response = user.require_response()
    assert not response.success, "expected the request to be rejected, it succeeded"


@then(parsers.re(r'the request is rejected with outcome "(?P<outcome>[^"]+)"' + NAMING))
def rejected_with(
    user: UserSession,
    s1sr_settings: RunSettings,
    outcome: str,
    limit: str | None,
    han_of: str | None,
    device: str | None,
) -> None:
    catalogue = s1sr_settings.catalogue
    expected = _outcome_class(catalogue, outcome)
    response = user.require_response()
    assert not response.success, "expected the request to be rejected, it succeeded"
    found = [o for o in response.outcomes if o.code == expected.code]
    if not found:
        raise Mismatch(f"outcome class (code {expected.code})", outcome, _describe(catalogue, response.outcomes))
    misses: list[AssertionError] = []
    for candidate in found:  # any outcome of the class may name what is expected
        try:
            _check_naming(user, candidate, limit, han_of, device)
            return
        except AssertionError as exc:
            misses.append(exc)
    raise misses[0]


@then(parsers.re(r'the response reports outcome "(?P<outcome>[^"]+)" at position (?P<position>\d+)' + NAMING))
def outcome_at(
    user: UserSession,
    s1sr_settings: RunSettings,
    outcome: str,
    position: str,
    limit: str | None,
    han_of: str | None,
    device: str | None,
) -> None:
    catalogue = s1sr_settings.catalogue
    _outcome_class(catalogue, outcome)  # a class the catalogue does not know is the feature's mistake
    response = user.require_response()
    at = [o for o in response.outcomes if o.position == int(position)]
    assert at, f"no outcome at position {position}; got {_describe(catalogue, response.outcomes)}"
    actual = catalogue.outcome_of(at[0].code)
    expect(
        f'outcome class at position {position} (code {at[0].code}: "{at[0].text}")',
        outcome,
        actual.name if actual else f"no class has code {at[0].code}",
    )
    _check_naming(user, at[0], limit, han_of, device)


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


def _last_request(user: UserSession) -> Evidence:
    """The evidence of the last request (not a read made to observe): the DUIS request the User sent."""
    response: SMETS1Response = user.require_response()
    marker = f">{response.request_id}<"
    for record in reversed(user.evidence):
        if marker in record.request_xml:
            return record
    raise AssertionError(f"no request {response.request_id} in the scenario's evidence")


def request_body_elements(request_xml: str) -> set[str]:
    """The local names of the elements in the body of a DUIS request, as the User sent it."""
    root = parse_xml(request_xml.encode("utf-8"), "the request the User sent")
    body = root.find("sr:Body", NSMAP)
    if body is None:
        return set()
    return {etree.QName(e).localname for e in body.iter() if isinstance(e.tag, str) and e is not body}


@then(parsers.re(r"the field (?P<field>\w+) of (?P<name>\w+) came from Annex C with value (?P<expected>\S+)"))
@device_side(DEVICE_COMMANDS)
def from_annex_c(user: UserSession, s1sr_settings: RunSettings, field: str, name: str, expected: str) -> None:
    catalogue = s1sr_settings.catalogue
    command = _command(user, name)
    srv = _last_request(user).srv
    entry = catalogue.annex_c_entry(srv, name, field)
    if entry is None:
        raise ConfigError(
            f"the catalogue of S1SR {catalogue.version} has no Annex C entry for SRV {srv} {name}.{field}",
            "the feature",
            "add the [[annex_c]] entry to the catalogue, or correct the feature",
        )
    if as_text(entry.value) != expected:
        raise ConfigError(
            f"the feature expects {name}.{field} {expected} from Annex C; "
            f"the catalogue of S1SR {catalogue.version} gives {as_text(entry.value)}",
            "the feature",
            "correct the feature or the catalogue: they must state the same value",
        )
    assert field in command.fields, f"{name} has no field {field}; it has {sorted(command.fields)}"
    label = command.defaults.get(field)
    said = f" (the S1SP labels it '{label}')" if label else ""
    expect(f"{name}.{field}, which Annex C of S1SR {catalogue.version} gives{said}", expected, command.fields[field])


@then(parsers.re(r'the field (?P<field>\w+) of (?P<name>\w+) came from "(?P<source>[^"]+)"'))
@device_side(DEVICE_COMMANDS)
def from_source(user: UserSession, s1sr_settings: RunSettings, field: str, name: str, source: str) -> None:
    command = _command(user, name)
    assert field in command.fields, f"{name} has no field {field}; it has {sorted(command.fields)}"
    found = field_source(
        s1sr_settings.catalogue,
        _last_request(user).srv,
        name,
        field,
        command.fields[field],
        command.defaults.get(field),
    )
    expect(f"source of {name}.{field} by the catalogue and the request", source, found.describe())


@then(parsers.re(r"the field (?P<field>\w+) of (?P<name>\w+) came from the request's (?P<element>\w+)"))
@device_side(DEVICE_COMMANDS)
def from_request(user: UserSession, s1sr_settings: RunSettings, field: str, name: str, element: str) -> None:
    catalogue = s1sr_settings.catalogue
    command = _command(user, name)
    record = _last_request(user)
    if element not in request_body_elements(record.request_xml):
        raise ConfigError(
            f"the request the scenario sent (SRV {record.srv}) carries no {element}",
            "the feature",
            "name an element of the request's body",
        )
    entry = catalogue.annex_c_entry(record.srv, name, field)
    if entry is not None:
        raise ConfigError(
            f"Annex C of S1SR {catalogue.version} gives {name}.{field} for SRV {record.srv}: it cannot come from "
            "the request",
            "the feature",
            "correct the feature or the catalogue",
        )
    assert field in command.fields, f"{name} has no field {field}; it has {sorted(command.fields)}"
    label = command.defaults.get(field)
    assert label is None, (
        f"the S1SP labels {name}.{field} as filled by itself ('{label}'), "
        f"but the request carried {element}: its evidence of where the value came from is false"
    )
