"""Which answers of an S1SP behind DUIS may come from its cache of a read made before the scenario.

Literal cache periods, clock readings and Timestamps; never the catalogue's. The integration (runs over
DUIS with MP162 in force) is in tests/test_duis_target_run.py.
"""

from __future__ import annotations

from typing import Any

from s1sr.duis.request import ReadLogPeriod, ReadNetworkData, RequestId, ServiceRequest
from s1sr.earlier_reads import EarlierReads

METER = "00-DB-12-34-56-78-90-A0"
OTHER_METER = "00-DB-12-34-56-78-90-A1"
USER = "90-B3-D5-1F-30-01-00-00"
DAY = ("2025-12-31T00:00:00Z", "2026-01-01T00:00:00Z")
STARTED = 1_767_225_600.0  # 2026-01-01T00:00:00Z
VALUES: dict[str, Any] = {"LogEntry[1]/Value": "241"}


class Clock:
    """Seconds since 1970, moved by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def read(srv: str = "4.10", meter: str = METER, period: tuple[str, str] = DAY, counter: int = 1) -> ServiceRequest:
    return ServiceRequest(RequestId(USER, meter, counter), srv, ReadNetworkData(ReadLogPeriod.of(*period)))


def reads(periods: dict[str, int] | None = None) -> tuple[EarlierReads, Clock]:
    clock = Clock(STARTED)
    return EarlierReads(periods if periods is not None else {"4.10": 100}, clock), clock


def test_the_same_answer_to_the_same_read_within_the_period_is_from_before_the_scenario() -> None:
    for seconds, said in ((0.0, "0.0"), (1.0, "1.0"), (99.9, "99.9")):  # the period is 100 s
        run, clock = reads()
        later = run.scenario("later")  # began with the first (the Timestamp rule does not apply)
        run.scenario("first").read(read(), 1_767_225_600, VALUES)
        clock.now = STARTED + seconds
        assert later.read(read(counter=2), 1_767_225_600, VALUES) == (
            f"the S1SP answered SRV 4.10 as it answered the same read sent {said} s before by first "
            "(cache period 100 s)"
        )


def test_at_the_period_and_after_an_answer_is_judged() -> None:
    for seconds in (100.0, 101.0):
        run, clock = reads()
        later = run.scenario("later")
        run.scenario("first").read(read(), 1_767_225_600, VALUES)
        clock.now = STARTED + seconds
        assert later.read(read(), 1_767_225_600, VALUES) is None


def test_another_answer_was_read_from_the_device_and_is_judged() -> None:
    run, clock = reads()
    later, third = run.scenario("later"), run.scenario("third")
    run.scenario("first").read(read(), 1_767_225_600, VALUES)
    clock.now = STARTED + 5
    assert later.read(read(), 1_767_225_605, VALUES) is None  # a fresh Timestamp: not the cache's answer
    assert third.read(read(), 1_767_225_605, {"LogEntry[1]/Value": "239"}) is None  # and other values
    clock.now = STARTED + 6
    assert run.scenario("fourth").read(read(), 1_767_225_605, {}) is None  # the same Timestamp, no values


def test_other_reads_and_the_same_scenario_are_judged() -> None:
    run, clock = reads({"4.10": 100, "4.8.1": 50})
    first = run.scenario("first")
    first.read(read(), 1_767_225_600, VALUES)
    clock.now = STARTED + 1
    assert first.read(read(counter=2), 1_767_225_600, VALUES) is None  # its own read: the cache under test
    later = run.scenario("later")
    assert later.read(read(meter=OTHER_METER), 1_767_225_600, VALUES) is None
    assert later.read(read(period=("2025-12-30T00:00:00Z", "2025-12-31T00:00:00Z")), 1_767_225_600, VALUES) is None
    assert later.read(read(srv="4.8.1"), 1_767_225_600, VALUES) is None  # another SRV, never read before
    assert later.read(read(srv="4.17"), 0, VALUES) is None  # no cache for 4.17: never from before


def test_the_same_instants_written_in_another_zone_are_the_same_read() -> None:
    run, clock = reads()
    run.scenario("first").read(read(), 1_767_225_600, VALUES)
    clock.now = STARTED + 1
    shifted = ("2025-12-31T01:00:00+01:00", "2026-01-01T01:00:00+01:00")
    assert run.scenario("later").read(read(period=shifted), 1_767_225_600, VALUES) is not None


def test_once_from_before_every_later_answer_to_that_read_in_the_scenario_is() -> None:
    run, clock = reads()
    run.scenario("first").read(read(), 1_767_225_600, VALUES)
    clock.now = STARTED + 1
    later = run.scenario("later")
    reason = later.read(read(), 1_767_225_600, VALUES)
    assert reason is not None
    clock.now = STARTED + 500  # past the period, and another answer: still the entry the scenario began with
    assert later.read(read(), 1_767_226_100, {"x": "1"}) == reason


def test_a_timestamp_before_the_scenario_began_is_from_an_earlier_run() -> None:
    run, _ = reads()
    scenario = run.scenario("first")  # begins at 2026-01-01T00:00:00Z, nothing read before in this run
    assert scenario.read(read(), 1_767_225_597, VALUES) == (
        "the S1SP answered SRV 4.10 with Timestamp 2025-12-31T23:59:57Z, before this scenario began "
        "(2026-01-01T00:00:00Z): from its cache of an earlier read"
    )
    for stamp in (1_767_225_598, 1_767_225_600, 1_767_225_601, None):  # within 2 s: the clocks may differ
        assert run.scenario("other").read(read(meter=OTHER_METER), stamp, VALUES) is None


def test_no_cache_no_reason() -> None:
    run, _ = reads({})
    assert run.scenario("first").read(read(), 0, VALUES) is None
