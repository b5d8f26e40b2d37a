"""The outcome classes the reference S1SP reports, by their catalogue names.

The S1SR does not number outcomes; the code that carries each class is catalogue
data (``outcomes.toml``), which the S1SP reads through its rules, so that an analyst
who corrects a code corrects what the S1SP writes and what the features expect alike.
"""

#: The request, or one device of it, was accepted.
ACCEPTED = "accepted"
#: The S1SP refused a value the device model cannot hold (e.g. over the load-limit maximum, 18.37).
OUTSIDE_DEVICE_RANGE = "outside the device model's range"
#: The device refused the command.
DEVICE_REJECTED = "device rejected"
#: A firmware update is already in progress on the device's HAN (S1SR 18.63).
UPDATE_IN_PROGRESS = "update in progress on the device's HAN"
#: Not sent to this device because the request was rejected as a whole (S1SR 4.2 reading of 18.63).
WHOLE_REQUEST_REJECTED = "whole request rejected"

#: Every class the reference S1SP reports: the catalogue must give each a code.
REPORTED = (ACCEPTED, OUTSIDE_DEVICE_RANGE, DEVICE_REJECTED, UPDATE_IN_PROGRESS, WHOLE_REQUEST_REJECTED)
