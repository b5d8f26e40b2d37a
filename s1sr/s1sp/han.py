"""SRV 8.11, the Communications Hub whitelist (S1SR 18.62)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from s1sr.duis.request import ServiceRequest, UpdateHANDeviceLog
from s1sr.duis.response import SMETS1Response
from s1sr.errors import ConfigError
from s1sr.s1sp.router import handles
from s1sr.units import SECONDS_PER_MINUTE

if TYPE_CHECKING:
    from s1sr.s1sp.translator import HandlerContext

ROUNDINGS: dict[str, Callable[[float], int]] = {"ceiling": math.ceil, "floor": math.floor, "nearest": round}


def to_join_minutes(seconds: int, rounding: str) -> int:
    """A JoinTimePeriod in seconds as the whole minutes a Secure Communications Hub takes."""
    if rounding not in ROUNDINGS:
        raise ConfigError(f"unknown join_rounding '{rounding}'", "catalogue", f"use one of {', '.join(ROUNDINGS)}")
    if rounding == "ceiling":
        return -(-seconds // SECONDS_PER_MINUTE)  # exact integer ceiling
    return int(ROUNDINGS[rounding](seconds / SECONDS_PER_MINUTE))


@handles("8.11")
def update_han_device_log(ctx: HandlerContext, request: ServiceRequest) -> SMETS1Response:
    """18.62: the join window goes to the hub in whole minutes, rounded as the catalogue says."""
    body = request.body
    assert isinstance(body, UpdateHANDeviceLog)
    if body.request_type == "Remove":
        command = ctx.command("8.11", "RemoveFromJoinWhitelist", request.target, joining_device=body.device_id)
    else:
        assert body.join_time_period is not None
        command = ctx.command(
            "8.11",
            "AddToJoinWhitelist",
            request.target,
            joining_device=body.device_id,
            join_minutes=to_join_minutes(body.join_time_period, ctx.rules.join_rounding),
            install_code=body.install_code,
        )
    return ctx.relay(request, ctx.send(command))
