"""Steps for the Communications Hub whitelist (18.62): SRV 8.11."""

from pytest_bdd import given, parsers, when

from s1sr.duis.request import UpdateHANDeviceLog
from s1sr.session import UserSession

INSTALL_CODE = "30313233343536373839414243444546"


def _add(device: str, seconds: int) -> UpdateHANDeviceLog:
    return UpdateHANDeviceLog(device, "Add", join_time_period=seconds, install_code=INSTALL_CODE)


@given(
    parsers.re(
        r"device (?P<device>[0-9A-F-]{23}) is on the Communications Hub whitelist with JoinTimePeriod (?P<seconds>\d+)"
    )
)
def on_whitelist(user: UserSession, device: str, seconds: str) -> None:
    response = user.send("8.11", _add(device, int(seconds)), user.comms_hub_id)
    assert response is not None and response.success, "precondition failed: SRV 8.11 Add was rejected"


@when(
    parsers.re(
        r"the User adds device (?P<device>[0-9A-F-]{23}) to the Communications Hub whitelist "
        r"with JoinTimePeriod (?P<seconds>-?\d+)"
    )
)
def add_to_whitelist(user: UserSession, device: str, seconds: str) -> None:
    user.send("8.11", _add(device, int(seconds)), user.comms_hub_id)


@when(
    parsers.re(
        r"the User adds device (?P<device>[0-9A-F-]{23}) to the Communications Hub whitelist "
        r"with JoinTimePeriod (?P<seconds>\d+) and install code (?P<code>(?:[0-9A-F]{2}){6,16})"
    )
)
def add_with_install_code(user: UserSession, device: str, seconds: str, code: str) -> None:
    body = UpdateHANDeviceLog(device, "Add", join_time_period=int(seconds), install_code=code)
    user.send("8.11", body, user.comms_hub_id)


@when(parsers.re(r"the User sends a JoinTimePeriod of (?P<seconds>-?\d+) that is not valid DUIS"))
def add_invalid(user: UserSession, seconds: str) -> None:
    user.send("8.11", _add("00-DB-12-34-56-78-90-C1", int(seconds)), user.comms_hub_id, expect_invalid=True)


@when(parsers.re(r"the User removes device (?P<device>[0-9A-F-]{23}) from the Communications Hub whitelist"))
def remove_from_whitelist(user: UserSession, device: str) -> None:
    user.send("8.11", UpdateHANDeviceLog(device, "Remove"), user.comms_hub_id)
