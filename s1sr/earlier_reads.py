"""Reads an S1SP behind DUIS may answer from its cache of a read made before the scenario that sends them.

In process every scenario gets an S1SP of its own. Behind DUIS one S1SP serves the whole run, and the
runs before it: with a cache in force (a clause's ``read_cache`` parameter: MP162's half-hourly data,
MP312's SRV 4.10) it answers a read that an earlier scenario made less than the cache period ago from
that read, taken from a rig the harness has reset since. That answer is the S1SP doing what the
modification says; it is not an answer about this scenario's rig, so a check of its values against
what this scenario put on the rig cannot judge the S1SP (interpretation, see docs).

:class:`EarlierReads` keeps, for one run's DUIS target, each cached read (SRV, device, request body,
compared as the reference S1SP's cache compares them): which scenario last sent it, when, and the
answer it got. :meth:`ScenarioReads.read` says why an answer may come from before its scenario:

- another scenario of this run sent the same read less than the cache period before, and got the
  same answer (Timestamp and values); an answer that differs was read from the device, so it is
  about this scenario's rig and is judged;
- or (a run before this one filled the cache) the answer's Timestamp, which a cached answer keeps,
  is more than :data:`TIMESTAMP_TOLERANCE_S` before the scenario began.

A scenario that fails a check after such an answer is *not applicable* on that target, its reason
beginning :data:`s1sr.observability.PREDATED`, and the failed step is *not observable*; one that
passes stands. The run's CONFORMANT verdict counts them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from s1sr.duis.request import ServiceRequest
from s1sr.s1sp.cache import cache_key

#: How far before a scenario's start an answer's Timestamp must be to count as an earlier read: the
#: Timestamp is in whole seconds, and the S1SP's clock is not the harness's.
TIMESTAMP_TOLERANCE_S = 2.0
#: An answer as a cache keeps it: its Timestamp (seconds since 1970 UTC) and its values.
Answer = tuple[int | None, dict[str, Any]]


class EarlierReads:
    """The cached reads one run has sent through its DUIS target: when each was last sent, by which scenario."""

    def __init__(self, periods: dict[str, int], clock: Callable[[], float] = time.time) -> None:
        """``periods``: SRV -> the cache period in seconds (:func:`s1sr.s1sp.cache.cache_periods`)."""
        self.periods = dict(periods)
        self.clock = clock
        #: By read: the scenario that last sent it, when, and the answer it got (Timestamp, values).
        self._last: dict[tuple[str, str, Any], tuple[str, float, Answer]] = {}

    def scenario(self, name: str) -> ScenarioReads:
        """The reads of the scenario ``name``, which begins now."""
        return ScenarioReads(self, name, self.clock())


class ScenarioReads:
    """One scenario's cached reads through the run's DUIS target."""

    def __init__(self, run: EarlierReads, name: str, started: float) -> None:
        self.run = run
        self.name = name
        #: When the scenario began, seconds since the epoch (the harness's clock).
        self.started = started
        self._exposed: dict[tuple[str, str, Any], str] = {}

    def read(self, request: ServiceRequest, stamp: int | None, values: Mapping[str, Any]) -> str | None:
        """Note a successful answer to ``request``; why it may predate this scenario, else None.

        ``stamp`` is the answer's SMETS1 Response Timestamp, whole seconds since 1970 UTC (None: not read), and
        ``values`` what it carries. An answer the same read got in another scenario less than the cache period
        before may be that answer from the cache only if it is the same answer (Timestamp and values): any
        other answer was read from the device, so it is about this scenario's rig and is judged.

        Once a read of this scenario may have come from before it, every later answer to the same read in
        the scenario may too (the cache answers it from the same entry).
        """
        seconds = self.run.periods.get(request.srv)
        if seconds is None:
            return None
        key = cache_key(request)
        now = self.run.clock()
        answer = (stamp, dict(values))
        reason = self._exposed.get(key)
        if reason is None:
            earlier = self.run._last.get(key)
            if earlier is not None and earlier[0] != self.name and now - earlier[1] < seconds and earlier[2] == answer:
                reason = (
                    f"the S1SP answered SRV {request.srv} as it answered the same read sent "
                    f"{now - earlier[1]:.1f} s before by {earlier[0]} (cache period {seconds} s)"
                )
            elif stamp is not None and stamp < self.started - TIMESTAMP_TOLERANCE_S:
                reason = (
                    f"the S1SP answered SRV {request.srv} with Timestamp {_iso(stamp)}, before this scenario "
                    f"began ({_iso(self.started)}): from its cache of an earlier read"
                )
            if reason is not None:
                self._exposed[key] = reason
        self.run._last[key] = (self.name, now, answer)
        return reason


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(int(seconds), UTC).isoformat().replace("+00:00", "Z")
