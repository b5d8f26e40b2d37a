"""Steps for the prepayment clauses (18.3, 18.4, 18.5, 18.8, 18.16, 18.27): SRV 1.5, 1.6, 2.1, 2.5."""

from pytest_bdd import given, parsers, when

from s1sr.duis.request import (
    ActivateEmergencyCredit,
    UpdateMeterBalance,
    UpdatePaymentMode,
    UpdatePrepayConfiguration,
)
from s1sr.session import UserSession

# A prepayment configuration the steps send unless a scenario names a field (DUIS units).
CONFIGURATION = {
    "DebtRecoveryRateCap": 0,
    "EmergencyCreditLimit": 0,
    "EmergencyCreditThreshold": 0,
    "LowCreditThreshold": 0,
    "MaxMeterBalance": 25000000,
    "MaxCreditThreshold": 25000000,
}


def _configuration(user: UserSession, **fields: int) -> UpdatePrepayConfiguration:
    unknown = set(fields) - set(CONFIGURATION)
    if unknown:
        raise ValueError(f"not an UpdatePrepayConfiguration field: {', '.join(sorted(unknown))}")
    values = {**CONFIGURATION, **fields}
    return UpdatePrepayConfiguration(
        fuel=user.fuel,  # type: ignore[arg-type]
        debt_recovery_rate_cap=values["DebtRecoveryRateCap"],
        emergency_credit_limit=values["EmergencyCreditLimit"],
        emergency_credit_threshold=values["EmergencyCreditThreshold"],
        low_credit_threshold=values["LowCreditThreshold"],
        max_meter_balance=values["MaxMeterBalance"],
        max_credit_threshold=values["MaxCreditThreshold"],
    )


def _require_success(user: UserSession, what: str) -> None:
    response = user.require_response()
    assert response.success, f"precondition failed: {what} was rejected: {response.reason()}"


def _prepayment(threshold: int = 0, sdd: bool = False, sde: bool = False) -> UpdatePaymentMode:
    return UpdatePaymentMode("Prepayment", sdd, sde, threshold)


# --- Given: preconditions, set through DUIS like any User would --------------------------


@given("the meter is in prepayment mode")
def in_prepayment(user: UserSession) -> None:
    user.send("1.6", _prepayment(), user.meter_id)
    _require_success(user, "SRV 1.6 to prepayment")


@given(parsers.parse("the meter is in prepayment mode with DisablementThreshold {threshold:d}"))
def in_prepayment_with(user: UserSession, threshold: int) -> None:
    user.send("1.6", _prepayment(threshold), user.meter_id)
    _require_success(user, "SRV 1.6 to prepayment")


@given("the meter is in credit mode")
def in_credit(user: UserSession) -> None:
    user.send("1.6", UpdatePaymentMode("Credit"), user.meter_id)
    _require_success(user, "SRV 1.6 to credit")


@given(parsers.parse("the meter balance is {pence:d} pence"))
def balance_is(user: UserSession, pence: int) -> None:
    user.send("1.5", UpdateMeterBalance("PrepaymentMode", None), user.meter_id)
    _require_success(user, "SRV 1.5 reset")
    if pence:
        user.send("1.5", UpdateMeterBalance("PrepaymentMode", pence * 1000), user.meter_id)
        _require_success(user, "SRV 1.5 adjustment")


@given(
    parsers.parse(
        "the prepayment configuration has EmergencyCreditLimit {limit:d} and EmergencyCreditThreshold {threshold:d}"
    )
)
def configuration_has(user: UserSession, limit: int, threshold: int) -> None:
    user.send(
        "2.1",
        _configuration(user, EmergencyCreditLimit=limit, EmergencyCreditThreshold=threshold),
        user.meter_id,
    )
    _require_success(user, "SRV 2.1")


@given("emergency credit has been activated")
def emergency_credit_activated(user: UserSession) -> None:
    user.send("2.5", ActivateEmergencyCredit(), user.meter_id)
    _require_success(user, "SRV 2.5")


# --- When --------------------------------------------------------------------------------


@when(parsers.re(r"the User adjusts the meter balance by (?P<amount>-?\d+)"))
def adjust(user: UserSession, amount: str) -> None:
    user.send("1.5", UpdateMeterBalance("PrepaymentMode", int(amount)), user.meter_id)


@when("the User resets the meter balance")
def reset(user: UserSession) -> None:
    user.send("1.5", UpdateMeterBalance("PrepaymentMode", None), user.meter_id)


@when(parsers.re(r"the User sends an adjustment of (?P<amount>-?\d+) that is not valid DUIS"))
def adjust_invalid(user: UserSession, amount: str) -> None:
    user.send("1.5", UpdateMeterBalance("PrepaymentMode", int(amount)), user.meter_id, expect_invalid=True)


@when(
    parsers.re(
        r"the User changes the payment mode to prepayment with DisablementThreshold (?P<threshold>-?\d+), "
        r"SuspendDebtDisabled (?P<sdd>true|false) and SuspendDebtEmergency (?P<sde>true|false)"
    )
)
def change_to_prepayment(user: UserSession, threshold: str, sdd: str, sde: str) -> None:
    user.send("1.6", _prepayment(int(threshold), sdd == "true", sde == "true"), user.meter_id)


@when("the User changes the payment mode to credit")
def change_to_credit(user: UserSession) -> None:
    user.send("1.6", UpdatePaymentMode("Credit"), user.meter_id)


@when(parsers.re(r"the User updates the prepayment configuration with (?P<field>\w+) (?P<value>-?\d+)"))
def update_configuration(user: UserSession, field: str, value: str) -> None:
    user.send("2.1", _configuration(user, **{field: int(value)}), user.meter_id)


@when(
    parsers.re(r"the User sends a prepayment configuration with (?P<field>\w+) (?P<value>-?\d+) that is not valid DUIS")
)
def update_configuration_invalid(user: UserSession, field: str, value: str) -> None:
    user.send("2.1", _configuration(user, **{field: int(value)}), user.meter_id, expect_invalid=True)


@when("the User activates emergency credit")
def activate_emergency_credit(user: UserSession) -> None:
    user.send("2.5", ActivateEmergencyCredit(), user.meter_id)
