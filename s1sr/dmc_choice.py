"""Which Device Model Combination a DUIS request runs on in ``s1sr translate``: its target device decides.

DUIS names a device by its EUI-64 only; the DCC knows its type from the Smart Metering
Inventory. ``translate`` knows the devices of the RTDS test estate, the one the RTDS templates
address (this project's reading of the templates: the gas use cases, GCS, address -A1 and
-A3, the latter in the templates marked ``RELIABLE_GPF``; the electricity ones, ECS, -A0; the
Communications Hub ones, CCS, -A2; the PPMID firmware one, CS08, -A4). A GSME, or the GPF that
stands for it, is gas whatever the Service Reference Variant; an ESME is electricity.
"""

from __future__ import annotations

from dataclasses import dataclass

from s1sr.duis.request import ServiceRequest, UpdateFirmware, UpdateHANDeviceLog, UpdatePrepayConfiguration

#: The devices of the RTDS test estate by EUI-64, with their DUIS device type.
RTDS_DEVICE_TYPES = {
    "00-DB-12-34-56-78-90-A0": "ESME",
    "00-DB-12-34-56-78-90-A1": "GSME",
    "00-DB-12-34-56-78-90-A2": "CHF",
    "00-DB-12-34-56-78-90-A3": "GPF",
    "00-DB-12-34-56-78-90-A4": "PPMID",
}
#: The built-in DMC for a meter of each fuel.
DMC_OF_TYPE = {"ESME": "secure-esme", "GSME": "secure-gsme", "GPF": "secure-gsme"}
GAS_DMC = "secure-gsme"
ELECTRICITY_DMC = "secure-esme"


@dataclass(frozen=True)
class DmcChoice:
    """The DMC a request runs on, and why, in words a user reads."""

    dmc: str
    reason: str


def meter_of(request: ServiceRequest) -> str:
    """The meter a request is about: its target, the device a hub is asked to join (8.11), the first listed (11.1)."""
    body = request.body
    if isinstance(body, UpdateFirmware) and body.device_ids:
        return body.device_ids[0]
    if isinstance(body, UpdateHANDeviceLog):
        return body.device_id
    return request.target


def choose_dmc(request: ServiceRequest, named: str | None = None) -> DmcChoice:
    """The DMC for ``request``: ``named`` (``--dmc``) if given, else the type of the meter it is about."""
    if named:
        return DmcChoice(named, "named by --dmc")
    meter = meter_of(request)
    device_type = RTDS_DEVICE_TYPES.get(meter)
    if device_type in DMC_OF_TYPE:
        dmc = DMC_OF_TYPE[device_type]
        fuel = "gas" if dmc == GAS_DMC else "electricity"
        return DmcChoice(dmc, f"{meter} is the {device_type} of the RTDS test estate: {fuel}")
    body = request.body
    if isinstance(body, UpdatePrepayConfiguration) and body.fuel == "gas":
        return DmcChoice(GAS_DMC, "the request carries a gas prepayment configuration (UpdatePrepayConfigGas)")
    known = "not a meter" if device_type else "not a device"
    return DmcChoice(
        ELECTRICITY_DMC,
        f"{meter} is {known} of the RTDS test estate: electricity assumed (--dmc {GAS_DMC} for a gas meter)",
    )
