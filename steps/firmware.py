"""Steps for firmware updates on a HAN (18.63): SRV 11.1 and 11.3.

The User computes the FirmwareHash of its own image here (SHA-256, as GBCS does),
independently of the S1SP under test.
"""

import base64
import hashlib
from dataclasses import dataclass, field

import pytest
from pytest_bdd import given, parsers, then, when

from s1sr.duis.request import ActivateFirmware, UpdateFirmware
from s1sr.gherkin import expect
from s1sr.plugin.settings import RunSettings
from s1sr.session import DCC_ID, UserSession


@dataclass
class FirmwareImages:
    """The images a scenario has named (text -> version), the current one, and the one in progress.

    ``wrap`` gives, for an image sent with its base64 over several lines, the line length.
    """

    versions: dict[str, str] = field(default_factory=dict)
    current: str = ""
    in_progress: str = ""
    wrap: dict[str, int] = field(default_factory=dict)


@pytest.fixture
def firmware_images() -> FirmwareImages:
    return FirmwareImages()


def _base64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest().upper()


def _update(images: FirmwareImages, devices: str) -> UpdateFirmware:
    assert images.current, "name a firmware image first"
    image = _base64(images.current)
    width = images.wrap.get(images.current)
    if width:
        image = "\n".join(image[i : i + width] for i in range(0, len(image), width))
    return UpdateFirmware(image, images.versions[images.current], tuple(devices.split(",")))


@given(parsers.re(r'the firmware image "(?P<text>[^"]+)" with version "(?P<version>\w{1,8})"'))
def firmware_image(firmware_images: FirmwareImages, text: str, version: str) -> None:
    firmware_images.current = text
    firmware_images.versions[text] = version


@given(
    parsers.re(
        r'the firmware image "(?P<text>[^"]+)" with version "(?P<version>\w{1,8})", '
        r"its base64 wrapped every (?P<width>\d+) characters"
    )
)
def wrapped_firmware_image(firmware_images: FirmwareImages, text: str, version: str, width: str) -> None:
    firmware_image(firmware_images, text, version)
    firmware_images.wrap[text] = int(width)


@given(parsers.re(r"a firmware update is in progress on the HAN of device (?P<device>[0-9A-F-]{23})"))
def update_in_progress(user: UserSession, firmware_images: FirmwareImages, device: str) -> None:
    user.send("11.1", _update(firmware_images, device), DCC_ID)
    response = user.require_response()
    assert response.success, f"precondition failed: SRV 11.1 for {device} was rejected: {response.reason()}"
    firmware_images.in_progress = firmware_images.current


@when(parsers.re(r"the User updates the firmware of devices (?P<devices>[0-9A-F,-]+)"))
def update_firmware(user: UserSession, firmware_images: FirmwareImages, devices: str) -> None:
    user.send("11.1", _update(firmware_images, devices), DCC_ID)


@when(parsers.re(r"the User activates the firmware image on device (?P<device>[0-9A-F-]{23})"))
def activate_in_progress_image(user: UserSession, firmware_images: FirmwareImages, device: str) -> None:
    user.send("11.3", ActivateFirmware(_hash(firmware_images.in_progress)), device)


@when(parsers.re(r'the User activates the image "(?P<text>[^"]+)" on device (?P<device>[0-9A-F-]{23})'))
def activate_image(user: UserSession, text: str, device: str) -> None:
    user.send("11.3", ActivateFirmware(_hash(text)), device)


@then(
    parsers.re(
        r"a new firmware update for device (?P<device>[0-9A-F-]{23}) is "
        r'(?:(?P<accepted>accepted)|rejected with outcome "(?P<outcome>[^"]+)")'
    )
)
def new_update(
    user: UserSession, s1sr_settings: RunSettings, device: str, accepted: str | None, outcome: str | None
) -> None:
    """Probe the device's HAN with a new SRV 11.1 (an observation, not the scenario's last request)."""
    catalogue = s1sr_settings.catalogue
    expected = catalogue.outcome("accepted" if accepted else str(outcome))
    probe = UpdateFirmware(_base64("S1SR probe image"), "0000FFFF", (device,))
    response = user.send("11.1", probe, DCC_ID, observe=True)
    assert response is not None, "the S1SP refused the probe SRV 11.1"
    assert response.outcomes, f"the probe SRV 11.1 for {device} reported no outcome for the device"
    found = response.outcomes[0]
    actual = catalogue.outcome_of(found.code)
    expect(
        f'outcome of a new update for {device} (code {found.code}: "{found.text}")',
        expected.name,
        actual.name if actual else f"no class has code {found.code}",
    )
