"""Access control before any device command: may this User send this SRV, and can the target device answer it?

The reference S1SP answers a request that fails either check with a DUIS response carrying
only the code (no SMETS1 Response, no command to any device): ``E2`` when none of the User's
roles is eligible for the SRV, ``E11`` when the target device's type does not answer the SRV or
its model has a trait the SRV rule excludes. The rules, roles and Users are catalogue data
(``srvs.toml``), which modification packs change.
"""

from __future__ import annotations

from dataclasses import dataclass

from s1sr.catalogue import DeviceModel
from s1sr.catalogue.eligibility import Eligibility
from s1sr.duis.request import ServiceRequest

#: A User Role not permitted to send the Service Reference.
ROLE_NOT_PERMITTED = "E2"
#: The Service Reference is not compatible with the specified device.
NOT_COMPATIBLE = "E11"


@dataclass(frozen=True)
class Denial:
    """Why a request is refused before any device command: the DUIS code and one line for the log."""

    code: str
    reason: str


def check_access(
    rights: Eligibility, request: ServiceRequest, target_model: DeviceModel | None, target_type: str | None
) -> Denial | None:
    """The denial of ``request``, or None when the User may send it and the target can answer it.

    ``target_model`` and ``target_type`` describe the request's business target when it is a
    device of the estate (None for a non-device target such as the DCC). An SRV with no rule in
    the catalogue is let through: the handler decides.
    """
    rule = rights.rule(request.srv)
    if rule is None:
        return None
    originator = request.request_id.originator
    user = rights.user(originator)
    roles = user.roles if user is not None else ()
    if not set(roles) & set(rule.roles):
        held = ", ".join(roles) or "no role"
        return Denial(
            ROLE_NOT_PERMITTED,
            f"User {originator} ({held}) may not send SRV {request.srv} (eligible: {', '.join(rule.roles)})",
        )
    if rule.device_types and target_type is not None and target_type not in rule.device_types:
        return Denial(
            NOT_COMPATIBLE,
            f"SRV {request.srv} is not for a {target_type} (it is for {', '.join(rule.device_types)})",
        )
    if target_model is not None:
        excluded = sorted(set(target_model.traits) & set(rule.excluded_traits))
        if excluded:
            return Denial(
                NOT_COMPATIBLE,
                f"SRV {request.srv} is not compatible with device model {target_model.id} ({excluded[0]})",
            )
    return None
