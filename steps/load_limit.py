"""Steps for the load-limit maximum (18.37): SRV 6.4.1."""

from pytest_bdd import parsers, when

from s1sr.duis.request import UpdateLoadLimitSettings
from s1sr.session import UserSession


def _settings(watts: int) -> UpdateLoadLimitSettings:
    return UpdateLoadLimitSettings(period=300, power_threshold=watts, restoration_period=30, supply_state="Disable")


@when(parsers.re(r"the User sets the load limit power threshold to (?P<watts>\d+) W"))
def set_threshold(user: UserSession, watts: str) -> None:
    user.send("6.4.1", _settings(int(watts)), user.meter_id)


@when(
    parsers.re(
        r"the User sets the load limit power threshold to (?P<watts>\d+) W with period (?P<period>\d+) s, "
        r"restoration period (?P<restoration>\d+) s and supply state (?P<state>Disable|Unchanged)"
    )
)
def set_settings(user: UserSession, watts: str, period: str, restoration: str, state: str) -> None:
    settings = UpdateLoadLimitSettings(
        period=int(period),
        power_threshold=int(watts),
        restoration_period=int(restoration),
        supply_state=state,  # type: ignore[arg-type]
    )
    user.send("6.4.1", settings, user.meter_id)


@when(parsers.re(r"the User sends a load limit power threshold of (?P<watts>-?\d+) W that is not valid DUIS"))
def set_threshold_invalid(user: UserSession, watts: str) -> None:
    user.send("6.4.1", _settings(int(watts)), user.meter_id, expect_invalid=True)
