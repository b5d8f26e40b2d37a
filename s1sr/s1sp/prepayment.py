"""Prepayment SRVs: 1.5, 1.6, 2.1, 2.5 and the reads 4.3, 4.13, 4.18 (S1SR 18.3-18.27)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from s1sr.duis.request import (
    ServiceRequest,
    UpdateMeterBalance,
    UpdatePaymentMode,
    UpdatePrepayConfiguration,
)
from s1sr.duis.response import SMETS1Response
from s1sr.s1sp.router import handles
from s1sr.units import pence_to_duis, to_pence

if TYPE_CHECKING:
    from s1sr.s1sp.translator import HandlerContext


@handles("1.5")
def update_meter_balance(ctx: HandlerContext, request: ServiceRequest) -> SMETS1Response:
    """18.3: a signed adjustment truncated to whole pence, or a reset to zero."""
    body = request.body
    assert isinstance(body, UpdateMeterBalance)
    if body.adjust is None:
        command = ctx.command("1.5", "ResetMeterBalance", request.target)
    else:
        command = ctx.command("1.5", "AdjustMeterBalance", request.target, amount_pence=to_pence(body.adjust))
    return ctx.relay(request, ctx.send(command))


@handles("1.6")
def update_payment_mode(ctx: HandlerContext, request: ServiceRequest) -> SMETS1Response:
    """18.4: prepayment with DisablementThreshold in whole pence; other fields from Annex C."""
    body = request.body
    assert isinstance(body, UpdatePaymentMode)
    if body.to == "Credit":
        command = ctx.command(
            "1.6",
            "SetPaymentMode",
            request.target,
            mode="credit",
            disablement_threshold_pence=0,
            suspend_debt_disabled=False,
            suspend_debt_emergency=False,
        )
    else:
        command = ctx.command(
            "1.6",
            "SetPaymentMode",
            request.target,
            mode="prepayment",
            disablement_threshold_pence=to_pence(body.disablement_threshold),
            suspend_debt_disabled=body.suspend_debt_disabled,
            suspend_debt_emergency=body.suspend_debt_emergency,
        )
    return ctx.relay(request, ctx.send(command))


@handles("2.1")
def update_prepay_configuration(ctx: HandlerContext, request: ServiceRequest) -> SMETS1Response:
    """18.27: every money threshold truncated to whole pence; DebtRecoveryRateCap passed unchanged."""
    body = request.body
    assert isinstance(body, UpdatePrepayConfiguration)
    command = ctx.command(
        "2.1",
        "SetPrepayConfiguration",
        request.target,
        debt_recovery_rate_cap=body.debt_recovery_rate_cap,
        emergency_credit_limit_pence=to_pence(body.emergency_credit_limit),
        emergency_credit_threshold_pence=to_pence(body.emergency_credit_threshold),
        low_credit_threshold_pence=to_pence(body.low_credit_threshold),
        max_meter_balance_pence=to_pence(body.max_meter_balance),
        max_credit_threshold_pence=to_pence(body.max_credit_threshold),
    )
    return ctx.relay(request, ctx.send(command))


@handles("2.5")
def activate_emergency_credit(ctx: HandlerContext, request: ServiceRequest) -> SMETS1Response:
    """18.5 and 18.8: the device decides whether emergency credit is available."""
    return ctx.relay(request, ctx.send(ctx.command("2.5", "ActivateEmergencyCredit", request.target)))


@handles("4.3")
def read_instantaneous_prepay_values(ctx: HandlerContext, request: ServiceRequest) -> SMETS1Response:
    """18.8 and 18.16: balances read in whole pence and returned x 1000."""
    reply = ctx.send(ctx.command("4.3", "ReadPrepayValues", request.target))
    v = reply.values
    return ctx.relay(
        request,
        reply,
        {
            "EmergencyCreditBalance": pence_to_duis(v.get("emergency_credit_balance_pence", 0)),
            "AccumulatedDebtRegister": pence_to_duis(v.get("accumulated_debt_pence", 0)),
            "PaymentDebtRegister": pence_to_duis(v.get("payment_debt_pence", 0)),
            "TimeDebtRegister1": pence_to_duis(v.get("time_debt_1_pence", 0)),
            "TimeDebtRegister2": pence_to_duis(v.get("time_debt_2_pence", 0)),
            "MeterBalance": pence_to_duis(v.get("meter_balance_pence", 0)),
        },
    )


@handles("4.13")
def read_prepayment_configuration(ctx: HandlerContext, request: ServiceRequest) -> SMETS1Response:
    """18.27: stored thresholds returned as truncated pence x 1000."""
    reply = ctx.send(ctx.command("4.13", "ReadPrepayConfiguration", request.target))
    v = reply.values
    values: dict[str, int | bool | str] = {}
    if reply.accepted:
        values = {
            "DebtRecoveryRateCap": v["debt_recovery_rate_cap"],
            "DisablementThreshold": pence_to_duis(v["disablement_threshold_pence"]),
            "EmergencyCreditLimit": pence_to_duis(v["emergency_credit_limit_pence"]),
            "EmergencyCreditThreshold": pence_to_duis(v["emergency_credit_threshold_pence"]),
            "LowCreditThreshold": pence_to_duis(v["low_credit_threshold_pence"]),
            "CreditMaxCreditThreshold": pence_to_duis(v["max_credit_threshold_pence"]),
            "MaxCreditMaxMeterBalance": pence_to_duis(v["max_meter_balance_pence"]),
            "SuspendDebtDisabled": bool(v["suspend_debt_disabled"]),
            "SuspendDebtEmergency": bool(v["suspend_debt_emergency"]),
        }
        if ctx.fuel == "electricity":
            values["Electricity/PaymentMode"] = "Prepayment" if v["payment_mode"] == "prepayment" else "Credit"
    return ctx.relay(request, reply, values)


@handles("4.18")
def read_meter_balance(ctx: HandlerContext, request: ServiceRequest) -> SMETS1Response:
    """18.16: the meter balance in whole pence x 1000."""
    reply = ctx.send(ctx.command("4.18", "ReadMeterBalance", request.target))
    values: dict[str, int | bool | str] = {}
    if reply.accepted:
        values["MeterBalance"] = pence_to_duis(reply.values["meter_balance_pence"])
    return ctx.relay(request, reply, values)
