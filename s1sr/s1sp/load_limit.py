"""SRV 6.4.1, load limiting general settings (S1SR 18.37)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from s1sr.duis.request import ServiceRequest, UpdateLoadLimitSettings
from s1sr.duis.response import SMETS1Response
from s1sr.s1sp.outcomes import OUTSIDE_DEVICE_RANGE
from s1sr.s1sp.router import handles

if TYPE_CHECKING:
    from s1sr.s1sp.translator import HandlerContext


@handles("6.4.1")
def update_load_limit(ctx: HandlerContext, request: ServiceRequest) -> SMETS1Response:
    """18.37: a threshold over the device model's maximum is refused before it reaches the device."""
    body = request.body
    assert isinstance(body, UpdateLoadLimitSettings)
    limit = ctx.rules.max_power_threshold_w
    if limit is not None and body.power_threshold > limit:
        return ctx.rejected(
            request,
            OUTSIDE_DEVICE_RANGE,
            f"LoadLimitPowerThreshold {body.power_threshold} W is above the maximum of {limit} W for this device model",
        )
    command = ctx.command(
        "6.4.1",
        "SetLoadLimit",
        request.target,
        power_threshold_w=body.power_threshold,
        period_s=body.period,
        restoration_period_s=body.restoration_period,
        supply_state=body.supply_state,
    )
    return ctx.relay(request, ctx.send(command))
