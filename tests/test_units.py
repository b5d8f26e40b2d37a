import pytest

from s1sr.errors import ConfigError
from s1sr.s1sp.han import to_join_minutes
from s1sr.units import pence_to_duis, to_pence


@pytest.mark.parametrize(
    ("duis", "pence"),
    [
        (123456, 123),
        (999, 0),
        (1000, 1),
        (1999, 1),
        (0, 0),
        (-1, 0),
        (-999, 0),
        (-1000, -1),
        (-1500, -1),
        (-1999, -1),
        (2147483647, 2147483),
        (-2147483648, -2147483),
        (4294967295, 4294967),
        (10**20 + 999, 10**17),
    ],
)
def test_to_pence_truncates_toward_zero(duis: int, pence: int) -> None:
    assert to_pence(duis) == pence


def test_pence_to_duis() -> None:
    assert pence_to_duis(-7) == -7000


@pytest.mark.parametrize(
    ("seconds", "minutes"),
    [(1, 1), (59, 1), (60, 1), (61, 2), (90, 2), (119, 2), (120, 2), (121, 3), (3600, 60)],
)
def test_join_minutes_ceiling(seconds: int, minutes: int) -> None:
    assert to_join_minutes(seconds, "ceiling") == minutes


def test_join_minutes_floor_reading_differs() -> None:
    assert [to_join_minutes(s, "floor") for s in (59, 60, 61)] == [0, 1, 1]


def test_unknown_rounding_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="join_rounding"):
        to_join_minutes(60, "sideways")
