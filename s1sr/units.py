"""Conversions between DUIS units and the units Secure devices hold.

DUIS money is in 10^-5 of the currency unit (1 penny = 1000 DUIS units); Secure
devices hold whole pence. DUIS JoinTimePeriod is in seconds; Secure
Communications Hubs take whole minutes (see :mod:`s1sr.s1sp.han`).
"""

from __future__ import annotations

DUIS_UNITS_PER_PENNY = 1000
SECONDS_PER_MINUTE = 60


def to_pence(duis_value: int) -> int:
    """Truncate a DUIS money value toward zero to whole pence (S1SR 18.27).

    >>> to_pence(123456), to_pence(999), to_pence(-1500)
    (123, 0, -1)
    """
    # int() of a true division would go through float and lose exactness for large
    # values; divmod floors, so correct the floor toward zero for negatives.
    quotient, remainder = divmod(duis_value, DUIS_UNITS_PER_PENNY)
    if quotient < 0 and remainder:
        quotient += 1
    return quotient


def pence_to_duis(pence: int) -> int:
    """Express whole pence in DUIS money units (pence x 1000)."""
    return pence * DUIS_UNITS_PER_PENNY
