"""The time an S1SP keeps: the system's, or one the harness moves (cache periods are judged on it).

The harness gives an in-process S1SP a :class:`ManualClock` (:meth:`S1SP.use_clock`) so that a
scenario can let exactly 1799, 1800 or 1801 seconds pass without waiting for them. An S1SP
behind DUIS keeps its own time; steps that move the clock are not observable there.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol

#: Where a scenario's manual clock starts: the same every run, so evidence is too.
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


class Clock(Protocol):
    """Something that tells the time (UTC)."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    """The machine's time."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to (thread-safe)."""

    def __init__(self, start: datetime = EPOCH) -> None:
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The clock's time."""
        with self._lock:
            return self._now

    def advance(self, seconds: int) -> None:
        """Move the clock ``seconds`` forward (never back: ValueError for a negative amount)."""
        if seconds < 0:
            raise ValueError(f"a clock does not go back ({seconds} s)")
        with self._lock:
            self._now += timedelta(seconds=seconds)
