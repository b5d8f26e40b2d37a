"""Steps about who sends a request: the User's role, and the DUIS refusals a User meets (E2, E11).

A scenario acts as the DCC Boxed supplier (Import and Gas Supplier) unless it names a role; the
User ID of each role is the estate's registration (``srvs.toml`` ``[[user]]``), as a real DCC's
User registry is. What a role may send is never read from there: each feature states the
response code literally.
"""

import base64
import hashlib

import pytest
from pytest_bdd import given, parsers, then, when

from s1sr.duis.request import (
    ActivateEmergencyCredit,
    ActivateFirmware,
    ReadActiveImportProfileData,
    ReadExportProfileData,
    ReadInstantaneousExportRegisters,
    ReadInstantaneousImportRegisters,
    ReadInstantaneousPrepayValues,
    ReadLogPeriod,
    ReadMeterBalance,
    ReadNetworkData,
    ReadPrepaymentConfiguration,
    RequestBody,
    RetrieveDailyConsumptionLog,
    UpdateFirmware,
    UpdateHANDeviceLog,
    UpdateLoadLimitSettings,
    UpdateMeterBalance,
    UpdatePaymentMode,
    UpdatePrepayConfiguration,
)
from s1sr.gherkin import expect
from s1sr.observability import DEVICE_COMMANDS, S1SP_CLOCK, device_side
from s1sr.plugin.keys import NOT_APPLICABLE
from s1sr.plugin.settings import RunSettings
from s1sr.s1sp.clock import ManualClock
from s1sr.session import DCC_ID, UserSession

_IMAGE = base64.b64encode(b"S1SR access-control probe image").decode("ascii")
#: A device joining the Communications Hub in the 8.11 probe (not one of the estate's).
_JOINING = "00-DB-12-34-56-78-90-C9"
#: The period every probing read asks for: the day before the S1SP's clock starts (the pack features' day).
PROBE_PERIOD = ("2025-12-31T00:00:00Z", "2026-01-01T00:00:00Z")


def sample_body(user: UserSession, srv: str) -> tuple[RequestBody, str]:
    """A valid request body for ``srv`` and its business target, for probing who may send it."""
    meter = user.meter_id
    samples: dict[str, tuple[RequestBody, str]] = {
        "1.5": (UpdateMeterBalance("PrepaymentMode", 1000), meter),
        "1.6": (UpdatePaymentMode("Credit"), meter),
        "2.1": (
            UpdatePrepayConfiguration(user.fuel, 100, 300000, 100000, 200000, 5000000, 1000000),  # type: ignore[arg-type]
            meter,
        ),
        "2.5": (ActivateEmergencyCredit(), meter),
        "4.3": (ReadInstantaneousPrepayValues(), meter),
        "4.13": (ReadPrepaymentConfiguration(), meter),
        "4.18": (ReadMeterBalance(), meter),
        "6.4.1": (UpdateLoadLimitSettings(60, 1000, 60, "Unchanged"), meter),
        "8.11": (UpdateHANDeviceLog(_JOINING, "Add", 60, "0" * 32), user.comms_hub_id),
        "11.1": (UpdateFirmware(_IMAGE, "0000FFFE", (meter,)), DCC_ID),
        "11.3": (ActivateFirmware(hashlib.sha256(b"not held").hexdigest().upper()), meter),
        "4.1.1": (ReadInstantaneousImportRegisters(), meter),
        "4.2": (ReadInstantaneousExportRegisters(), meter),
        "4.8.1": (ReadActiveImportProfileData(ReadLogPeriod.of(*PROBE_PERIOD)), meter),
        "4.8.3": (ReadExportProfileData(ReadLogPeriod.of(*PROBE_PERIOD)), meter),
        "4.10": (ReadNetworkData(ReadLogPeriod.of(*PROBE_PERIOD)), meter),
        "4.17": (RetrieveDailyConsumptionLog(ReadLogPeriod.of(*PROBE_PERIOD)), meter),
    }
    if srv not in samples:
        raise AssertionError(f"no sample request for SRV {srv}: add one to steps/access.py")
    return samples[srv]


def act_as(user: UserSession, eui: str, who: str) -> None:
    """Send the scenario's requests as ``eui``; not applicable where the target cannot act as that User."""
    if not user.s1sp.can_act_as(eui):
        pytest.skip(f"{NOT_APPLICABLE}acts as {who} (User {eui}), and this target holds no signing key for that User")
    user.user_id = eui


def a_role(role: str) -> str:
    """``role`` with its article: "an Import Supplier", "a Gas Supplier"."""
    return f"{'an' if role[:1].upper() in 'AEIOU' else 'a'} {role}"


def user_in_role(s1sr_settings: RunSettings, role: str) -> str:
    """The User ID of the test User acting in ``role`` (a role's name or code)."""
    rights = s1sr_settings.catalogue.eligibility
    return rights.user_in_role(rights.role_named(role).code).eui


@given(parsers.re(r"the User is an? (?P<role>[A-Z][A-Za-z ]+)$"))
def user_is(user: UserSession, s1sr_settings: RunSettings, role: str) -> None:
    act_as(user, user_in_role(s1sr_settings, role), a_role(role))


@given(parsers.re(r"the User sends as User ID (?P<eui>[0-9A-F]{2}(?:-[0-9A-F]{2}){7})$"))
def user_id_is(user: UserSession, eui: str) -> None:
    act_as(user, eui, "an unregistered User")


@when(parsers.re(r"the User sends SRV (?P<srv>[\d.]+)$"))
def user_sends(user: UserSession, srv: str) -> None:
    body, target = sample_body(user, srv)
    user.send(srv, body, target)


@then(parsers.re(r"the DUIS response code is (?P<code>[EIW]\d+)$"))
def response_code_is(user: UserSession, code: str) -> None:
    expect("sr:Header/sr:ResponseCode", code, user.require_response().response_code)


@then(parsers.re(r"the request is refused with DUIS response code (?P<code>E\d+)$"))
def refused_with(user: UserSession, code: str) -> None:
    expect("sr:Header/sr:ResponseCode", code, user.require_response().response_code)
    assert "<sr:SMETS1ResponseMessage" not in user.evidence[-1].response_xml, "a refusal carries no SMETS1 Response"


@then("no refused request reached a device")
@device_side(DEVICE_COMMANDS)
def refusals_reached_no_device(user: UserSession) -> None:
    """Every request of the scenario answered with an E code reached no device."""
    reached = [
        f"SRV {e.srv} ({e.device_commands[0]['name']})"
        for e in user.evidence
        if "<sr:ResponseCode>E" in e.response_xml and e.device_commands
    ]
    assert not reached, f"refused requests reached a device: {', '.join(reached)}"


@then(parsers.re(r"SRV (?P<srv>[\d.]+) gets these DUIS response codes by role:"))
def codes_by_role(user: UserSession, s1sr_settings: RunSettings, srv: str, datatable: list[list[str]]) -> None:
    """Send ``srv`` once as each role of the table; every row's code must match (all mismatches are named)."""
    header, *rows = datatable
    if [h.strip() for h in header] != ["role", "code"]:
        raise AssertionError(f"the table's columns must be | role | code |, not {header}")
    own = user.user_id
    wrong = []
    try:
        for role, code in ((r[0].strip(), r[1].strip()) for r in rows):
            act_as(user, user_in_role(s1sr_settings, role), a_role(role))
            body, target = sample_body(user, srv)
            response = user.send(srv, body, target)
            got = response.response_code if response is not None else "refused as invalid DUIS"
            if got != code:
                wrong.append(f"{role}: {got}, expected {code}")
    finally:
        user.user_id = own
    assert not wrong, f"SRV {srv}: " + "; ".join(wrong)


@when(parsers.re(r"(?P<seconds>\d+) seconds? pass(?:es)?$"))
def time_passes(user: UserSession, s1sp_clock: ManualClock, seconds: str) -> None:
    """Move the S1SP's clock. A target that keeps its own time cannot be judged on what follows: not applicable."""
    if S1SP_CLOCK not in user.observes:
        pytest.skip(f"{NOT_APPLICABLE}lets {seconds} s pass on the S1SP's clock, which this target keeps itself")
    s1sp_clock.advance(int(seconds))


time_passes.s1sr_view = S1SP_CLOCK  # type: ignore[attr-defined]  # counted by s1sr clauses as not over DUIS
