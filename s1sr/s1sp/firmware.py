"""SRV 11.1 UpdateFirmware and 11.3 ActivateFirmware (S1SR 18.63).

A HAN runs one firmware update at a time. Before distributing an image the
S1SP asks each listed device's HAN whether an update is in progress there. Under
``firmware_conflict_scope = "device"`` (S1SR 4.3) only the devices on busy HANs
are rejected; under ``"request"`` (this project's reading of 4.2) one busy HAN
rejects the whole request. The HAN state is read once, before any transfer of
this request starts, so devices of one request sharing a free HAN take the
same update (interpretation).
"""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING

from s1sr.duis.request import ActivateFirmware, ServiceRequest, UpdateFirmware
from s1sr.duis.response import Outcome, SMETS1Response
from s1sr.s1sp.outcomes import ACCEPTED, DEVICE_REJECTED, UPDATE_IN_PROGRESS, WHOLE_REQUEST_REJECTED
from s1sr.s1sp.router import handles

if TYPE_CHECKING:
    from s1sr.s1sp.translator import HandlerContext


def image_hash(image_base64: str) -> str:
    """SHA-256 of a base64 firmware image, as 64 upper-case hex digits (the SRV 11.3 FirmwareHash)."""
    return hashlib.sha256(base64.b64decode(image_base64, validate=False)).hexdigest().upper()


@handles("11.1")
def update_firmware(ctx: HandlerContext, request: ServiceRequest) -> SMETS1Response:
    """18.63: reject the devices whose HAN is busy (or the whole request, by the 4.2 reading)."""
    body = request.body
    assert isinstance(body, UpdateFirmware)
    digest = image_hash(body.firmware_image)
    busy: dict[str, str] = {}
    for device in body.device_ids:
        status = ctx.send(ctx.command("11.1", "ReadFirmwareStatus", device))
        if status.accepted and status.values.get("update_in_progress"):
            busy[device] = str(status.values.get("han", "its HAN"))
    outcomes: list[Outcome] = []
    whole_request_rejected = bool(busy) and ctx.rules.firmware_conflict_scope == "request"
    for position, device in enumerate(body.device_ids, start=1):
        if device in busy:
            text = f"{device}: rejected, a firmware update is already in progress on {busy[device]}"
            outcomes.append(ctx.outcome(UPDATE_IN_PROGRESS, position, text))
        elif whole_request_rejected:
            blocked = ", ".join(busy)
            text = f"{device}: not sent, the whole request is rejected because of {blocked}"
            outcomes.append(ctx.outcome(WHOLE_REQUEST_REJECTED, position, text))
        else:
            reply = ctx.send(
                ctx.command(
                    "11.1",
                    "TransferFirmware",
                    device,
                    firmware_version=body.firmware_version,
                    image_hash=digest,
                    image_base64=body.firmware_image,
                )
            )
            if reply.accepted:
                text = f"{device}: accepted, firmware transfer started on {reply.values.get('han', 'its HAN')}"
                outcomes.append(ctx.outcome(ACCEPTED, position, text))
            else:
                outcomes.append(ctx.outcome(DEVICE_REJECTED, position, f"{device}: {reply.reason}"))
    success = all(o.code == ctx.rules.code(ACCEPTED) for o in outcomes)
    return SMETS1Response(request.request_id, request.srv, request.service_reference, success, {}, outcomes)


@handles("11.3")
def activate_firmware(ctx: HandlerContext, request: ServiceRequest) -> SMETS1Response:
    """Activation ends the HAN's update for this device."""
    body = request.body
    assert isinstance(body, ActivateFirmware)
    reply = ctx.send(ctx.command("11.3", "ActivateFirmware", request.target, image_hash=body.firmware_hash))
    values: dict[str, int | bool | str] = {}
    if reply.accepted and reply.values.get("firmware_version"):
        values["FirmwareVersion"] = str(reply.values["firmware_version"])
    return ctx.relay(request, reply, values)
