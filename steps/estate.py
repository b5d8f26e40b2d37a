"""Steps that declare the estate a scenario needs, checked against the devices the adapter lists.

A scenario names devices by EUI-64 and HANs only as "the HAN of device X": the HAN's own name
is whatever the estate under test calls it. When a scenario depends on how devices share HANs
(18.63), it says so, and an estate that does not fit ends the scenario as an error of the rig,
never as a failure of the S1SP.
"""

from pytest_bdd import given, parsers

from s1sr.devices.adapter import AdapterContractError
from s1sr.session import UserSession

EUI_LIST = r"[0-9A-F-]{23}(?:(?:, | and )[0-9A-F-]{23})*"


def _devices(text: str) -> list[str]:
    return [d.strip() for d in text.replace(" and ", ", ").split(",") if d.strip()]


@given(
    parsers.re(
        rf"the estate has devices (?P<first>{EUI_LIST}) on one HAN and devices (?P<second>{EUI_LIST}) on another"
    )
)
def estate_has(user: UserSession, first: str, second: str) -> None:
    hans = []
    for group in (_devices(first), _devices(second)):
        try:
            found = {device: user.adapter.device(device).han for device in group}
        except AdapterContractError as exc:
            raise AdapterContractError(f"the estate under test does not fit the scenario: {exc}") from None
        if len(set(found.values())) != 1:
            listed = ", ".join(f"{d} on {h}" for d, h in found.items())
            raise AdapterContractError(f"the estate under test does not fit the scenario: {listed}, not one HAN")
        hans.append(next(iter(found.values())))
    if hans[0] == hans[1]:
        raise AdapterContractError(
            f"the estate under test does not fit the scenario: both groups of devices are on {hans[0]}"
        )
