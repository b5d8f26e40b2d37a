"""Outcome codes the reference S1SP writes in ``SMETS1Debug/SMETS1Response/@ResponseCode``.

The S1SR does not number them; these are this project's (interpretation), fixed
here so that features can state them literally.
"""

from enum import IntEnum


class OutcomeCode(IntEnum):
    """Why a request, or one device of it, succeeded or not."""

    SUCCESS = 0
    #: The S1SP refused a value the device model cannot hold (e.g. over the load-limit maximum).
    OUT_OF_DEVICE_RANGE = 1
    #: The device refused the command.
    DEVICE_REJECTED = 2
    #: A firmware update is already in progress on the device's HAN (S1SR 18.63).
    FIRMWARE_UPDATE_IN_PROGRESS = 3
    #: Not sent to this device because the request was rejected as a whole (S1SR 4.2 reading of 18.63).
    REQUEST_REJECTED = 4
