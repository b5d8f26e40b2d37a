"""Deliberately wrong S1SPs and devices, to show that the clause scenarios can fail.

``python tests/mutants.py NAME s1sr-args...`` applies the mutant NAME, then runs the
``s1sr`` command in the same process. Each mutant is one plausible mistake.
"""

from __future__ import annotations

import dataclasses
import math
import re
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from s1sr.s1sp import han, prepayment, translator


def rounds_pence() -> None:
    """The S1SP rounds money to the nearest penny instead of truncating (18.3, 18.16, 18.27)."""
    prepayment.to_pence = lambda v: round(v / 1000)  # type: ignore[assignment]


def floors_join_minutes() -> None:
    """The S1SP floors the join window to minutes (18.62)."""
    han.to_join_minutes = lambda s, rounding: math.floor(s / 60)  # type: ignore[assignment]


def _with_rules(**changes: object) -> None:
    """Make every reference S1SP built from now on use rules altered by ``changes``."""
    original = translator.ReferenceS1SP.__init__

    def init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        original(self, *args, **kwargs)
        self.rules = dataclasses.replace(self.rules, **changes)

    translator.ReferenceS1SP.__init__ = init  # type: ignore[method-assign]


def rejects_whole_firmware_request() -> None:
    """The S1SP applies the 4.2 whole-request rejection under 4.3 (18.63)."""
    _with_rules(firmware_conflict_scope="request")


def no_load_limit_check() -> None:
    """The S1SP forwards any load-limit threshold to the device (18.37)."""
    _with_rules(max_power_threshold_w=None)


def ignores_annex_c() -> None:
    """The S1SP fills missing command fields with its own defaults, not Annex C (clause 23)."""
    _with_rules(annex_c=())


def tampers_after_signing() -> None:
    """Something between the S1SP and the User changes a signed value (signature check)."""
    original = translator.build_response

    def build(response, credentials):  # type: ignore[no-untyped-def]
        return re.sub(rb"<ra:MeterBalance>(-?[0-9]+)<", rb"<ra:MeterBalance>\g<1>0<", original(response, credentials))

    translator.build_response = build  # type: ignore[assignment]


def invalid_response() -> None:
    """The S1SP answers SRV 4.18 with a payload element DUIS does not have (schema check)."""
    from s1sr.duis import response

    response.PAYLOAD_ELEMENTS["4.18"] = "ReadMeterBalanceResponse"


MUTANTS: dict[str, Callable[[], None]] = {
    f.__name__: f
    for f in (
        rounds_pence,
        floors_join_minutes,
        rejects_whole_firmware_request,
        no_load_limit_check,
        ignores_annex_c,
        tampers_after_signing,
        invalid_response,
    )
}

if __name__ == "__main__":
    MUTANTS[sys.argv[1]]()
    from s1sr.cli import main

    main(sys.argv[2:])
