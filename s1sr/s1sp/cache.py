"""Reads the S1SP answers from its own cache (MP312 for SRV 4.10, MP162 for half-hourly data), as data.

A modification pack's clause turns a cache on with the parameter ``read_cache = { srvs = [...],
seconds = N }``: for those SRVs a successful read is kept, and the same read (same SRV, same
device, same request body, such as the same ReadLogPeriod, its instants compared as instants
whatever zone they are written in) asked again less than N seconds
later, by any User eligible to send it, is answered from the cache without a command to the
device. At N seconds and after, the device is read again and the cache refreshed. Eligibility is
checked before the cache is consulted (:mod:`s1sr.s1sp.access`), so a User not eligible never
gets cached data. DUIS has no field for the age of an answer: a cached answer keeps the
``Timestamp`` of the read it came from (this project's reading), which shows how old it is.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from s1sr.duis.request import ServiceRequest, XsDateTime
from s1sr.duis.response import SMETS1Response

#: The clause parameter that turns a cache on.
PARAMETER = "read_cache"


def cache_periods(parameters: Iterable[dict[str, Any]]) -> dict[str, int]:
    """SRV -> seconds, from every clause's ``read_cache`` parameter (none: no cache)."""
    periods: dict[str, int] = {}
    for found in parameters:
        setting = found.get(PARAMETER)
        if setting is None:
            continue
        seconds = setting.get("seconds")
        if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds < 1:
            raise ValueError(f"read_cache seconds must be a whole number of seconds above 0, not {seconds!r}")
        for srv in setting.get("srvs", []):
            periods[str(srv)] = seconds
    return periods


def _canonical(value: Any) -> Any:
    """A request body as a cache key: date-times as instants, other fields as they are."""
    if isinstance(value, XsDateTime):
        return value.key()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return tuple((f.name, _canonical(getattr(value, f.name))) for f in dataclasses.fields(value))
    return value


def cache_key(request: ServiceRequest) -> tuple[str, str, Any]:
    """What makes two reads the same read: SRV, device, and request body (its instants as instants)."""
    return (request.srv, request.request_id.target.upper(), _canonical(request.body))


@dataclass(frozen=True)
class _Entry:
    read_at: datetime
    response: SMETS1Response


class ReadCache:
    """The S1SP's cache of reads, for the SRVs and periods the packs in force give."""

    def __init__(self, periods: dict[str, int]) -> None:
        self.periods = dict(periods)
        self._entries: dict[tuple[str, str, Any], _Entry] = {}

    def _key(self, request: ServiceRequest) -> tuple[str, str, Any] | None:
        if request.srv not in self.periods:
            return None
        return cache_key(request)

    def answer(self, request: ServiceRequest, now: datetime) -> SMETS1Response | None:
        """The cached answer to ``request`` re-addressed to it, or None when it must go to the device."""
        key = self._key(request)
        entry = self._entries.get(key) if key is not None else None
        if entry is None or now - entry.read_at >= timedelta(seconds=self.periods[request.srv]):
            return None
        return dataclasses.replace(
            entry.response,
            request_id=request.request_id,
            service_reference=request.service_reference,
            values=dict(entry.response.values),
            outcomes=list(entry.response.outcomes),
        )

    def keep(self, request: ServiceRequest, response: SMETS1Response, read_at: datetime) -> None:
        """Keep a successful read of a cached SRV, read from the device at ``read_at``."""
        key = self._key(request)
        if key is not None and response.success:
            self._entries[key] = _Entry(read_at, response)
