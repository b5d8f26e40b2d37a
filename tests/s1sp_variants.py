"""Candidate S1SPs like the reference one but for one respect: ``s1sr run --s1sp tests.s1sp_variants:NAME``.

- The ``HardCodes*`` S1SPs ignore the catalogue they are given for one kind of value and use the
  shipped catalogue's numbers instead, as an S1SP built against the shipped values would: on the
  shipped catalogue they cannot be told from the reference S1SP; on the varied catalogue
  (``fixtures/catalogue-varied``) each must fail.
- The labelling S1SPs send the reference S1SP's commands with their ``defaults`` (the S1SP's own
  label of where a field came from) changed: the harness must judge where a value came from
  without believing the label.
- The rewording S1SPs keep every outcome's class (its code) and change its text: the suite does
  not care how an outcome is worded, only that it names what the reading or the scenario says.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar

from s1sr.catalogue import DMC, Catalogue
from s1sr.devices.adapter import DEFAULT_TIMEOUT_S, DeviceAdapter, DeviceInfo
from s1sr.devices.commands import DeviceCommand, DeviceReply
from s1sr.duis.request import ServiceRequest
from s1sr.duis.signing import Credentials
from s1sr.s1sp.outcomes import (
    ACCEPTED,
    DEVICE_REJECTED,
    OUTSIDE_DEVICE_RANGE,
    UPDATE_IN_PROGRESS,
    WHOLE_REQUEST_REJECTED,
)
from s1sr.s1sp.translator import Exchange, ReferenceS1SP

#: The shipped catalogue's outcome codes, written into the S1SP as a literal table.
SHIPPED_CODES = {
    ACCEPTED: 0,
    OUTSIDE_DEVICE_RANGE: 1,
    DEVICE_REJECTED: 2,
    UPDATE_IN_PROGRESS: 3,
    WHOLE_REQUEST_REJECTED: 4,
}


class _HardCoding(ReferenceS1SP):
    """The reference S1SP with some rule values fixed to the shipped catalogue's, whatever the catalogue says."""

    fixed: ClassVar[dict[str, Any]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rules = dataclasses.replace(self.rules, **self.fixed)


class HardCodesAnnexC(_HardCoding):
    """Fills the fields DUIS does not carry with its built-in values (the shipped Annex C's), not the catalogue's."""

    fixed: ClassVar[dict[str, Any]] = {"annex_c": ()}


class HardCodesLoadLimit(_HardCoding):
    """Refuses a LoadLimitPowerThreshold above 65535 W, the shipped maximum, whatever the catalogue says (18.37)."""

    fixed: ClassVar[dict[str, Any]] = {"max_power_threshold_w": 65535}


class HardCodesJoinRounding(_HardCoding):
    """Rounds the join window up to whole minutes, the shipped rounding, whatever the catalogue says (18.62)."""

    fixed: ClassVar[dict[str, Any]] = {"join_rounding": "ceiling"}


class HardCodesOutcomeCodes(_HardCoding):
    """Writes the shipped outcome codes 0-4, whatever codes the catalogue gives the outcome classes."""

    fixed: ClassVar[dict[str, Any]] = {"outcome_codes": SHIPPED_CODES}


class _Relabelling(DeviceAdapter):
    """Between the S1SP and the devices: every command goes on with its ``defaults`` rewritten."""

    def __init__(self, inner: DeviceAdapter, relabel: Callable[[DeviceCommand], DeviceCommand]) -> None:
        self.inner = inner
        self.name = inner.name
        self.relabel = relabel

    def reset(self) -> None:
        self.inner.reset()

    def execute(self, command: DeviceCommand, timeout_s: float = DEFAULT_TIMEOUT_S) -> DeviceReply:
        return self.inner.execute(self.relabel(command), timeout_s)

    def snapshot(self) -> dict[str, Any]:
        return self.inner.snapshot()

    def devices(self) -> list[DeviceInfo]:
        return self.inner.devices()


class _Labelling(ReferenceS1SP):
    """The reference S1SP whose commands leave it with their labels rewritten by :meth:`relabel`."""

    @staticmethod
    def relabel(command: DeviceCommand) -> DeviceCommand:
        return command

    @classmethod
    def create(
        cls, catalogue: Catalogue, dmc: DMC, adapter: DeviceAdapter, credentials: Credentials, timeout_s: float
    ) -> ReferenceS1SP:
        return cls(catalogue, dmc, _Relabelling(adapter, cls.relabel), timeout_s, credentials)


class LabelsEveryFieldAnnexC(_Labelling):
    """Labels every field of every command "Annex C", those the request carried included: a false label."""

    @staticmethod
    def relabel(command: DeviceCommand) -> DeviceCommand:
        return dataclasses.replace(command, defaults={f: "Annex C, S1SR 4.3 (interpretation)" for f in command.fields})


class LabelsNothing(_Labelling):
    """Sends the right values and labels no field at all, as most S1SPs would: no claim to believe or refuse."""

    @staticmethod
    def relabel(command: DeviceCommand) -> DeviceCommand:
        return dataclasses.replace(command, defaults={})


class AnnexCValueFromRequest(_Labelling):
    """Takes emergency_credit_auto_activation from the request (on with an EmergencyCreditLimit), labelled Annex C."""

    @staticmethod
    def relabel(command: DeviceCommand) -> DeviceCommand:
        if command.name != "SetPrepayConfiguration":
            return command
        fields = {
            **command.fields,
            "emergency_credit_auto_activation": command.fields["emergency_credit_limit_pence"] > 0,
        }
        return dataclasses.replace(command, fields=fields)


class _Rewording(ReferenceS1SP):
    """The reference S1SP whose outcome texts are rewritten by :meth:`reword` (codes unchanged)."""

    @staticmethod
    def reword(text: str) -> str:
        return text

    def handle(self, request: ServiceRequest) -> Exchange:
        exchange = super().handle(request)
        if exchange.response is not None:
            outcomes = exchange.response.outcomes
            outcomes[:] = [dataclasses.replace(o, text=self.reword(o.text)) for o in outcomes]
        return exchange


class LeavesOutTheLimit(_Rewording):
    """Refuses a threshold over the maximum with the right outcome class, but does not name the limit (18.37)."""

    @staticmethod
    def reword(text: str) -> str:
        return "threshold too high for this meter" if "maximum" in text else text


class CallsEveryHanHanA(_Rewording):
    """Names every HAN "HAN-A" in its outcomes, whichever HAN the device is on (18.63)."""

    @staticmethod
    def reword(text: str) -> str:
        return text.replace("HAN-B", "HAN-A")


class ForgetsHalfHours(ReferenceS1SP):
    """Answers SRV 4.8.1 with success and no half-hour values, whatever the meter recorded (MP162.1)."""

    def handle(self, request: ServiceRequest) -> Exchange:
        exchange = super().handle(request)
        if request.srv == "4.8.1" and exchange.response is not None:
            exchange.response.values.clear()
        return exchange
