"""Candidate S1SPs that get access control or a pack's cache wrong: ``--s1sp tests.s1sp_access_variants:NAME``.

Each is the reference S1SP but for one respect; the clause suite must catch each:

- :class:`IgnoresRoleEligibility` lets every User send every SRV (no E2);
- :class:`IgnoresDeviceCompatibility` sends any SRV to any device model (no E11);
- :class:`ReadsDeviceEveryTime` has no cache: every 4.10 and half-hourly read goes to the device;
- :class:`CachesBeforeAccessCheck` answers from its cache before checking the User's role, so a
  User not eligible gets another User's cached data;
- :class:`CachesForever` keeps a cached read past the pack's period;
- :class:`HardCodesCachePeriods` uses the shipped packs' periods whatever the catalogue says.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from s1sr.duis.request import ServiceRequest
from s1sr.duis.response import SMETS1Response
from s1sr.s1sp.cache import ReadCache
from s1sr.s1sp.translator import Exchange, ReferenceS1SP


class IgnoresRoleEligibility(ReferenceS1SP):
    """Never refuses E2: it takes every SRV rule to admit every role, and every User to hold one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        rights = self.catalogue.eligibility
        every = tuple(rights.roles)
        lax = dataclasses.replace(
            rights,
            srvs={srv: dataclasses.replace(rule, roles=every) for srv, rule in rights.srvs.items()},
            users=tuple(dataclasses.replace(u, roles=u.roles or every[:1]) for u in rights.users),
        )
        self.catalogue = dataclasses.replace(self.catalogue, eligibility=lax)

    def handle(self, request: ServiceRequest) -> Exchange:
        """Any User, registered or not, acts as the first registered one would."""
        rights = self.catalogue.eligibility
        if rights.user(request.request_id.originator) is None:
            stand_in = dataclasses.replace(request.request_id, originator=rights.users[0].eui)
            exchange = super().handle(dataclasses.replace(request, request_id=stand_in))
            exchange.request = request
            if exchange.response is not None:
                exchange.response = dataclasses.replace(exchange.response, request_id=request.request_id)
            return exchange
        return super().handle(request)


class IgnoresDeviceCompatibility(ReferenceS1SP):
    """Never refuses E11: the request goes to whatever device it names."""

    def target(self, device_id: str) -> tuple[Any, str | None]:
        """No device model or type is known, so none is excluded."""
        return None, None


class ReadsDeviceEveryTime(ReferenceS1SP):
    """Has no cache, whatever the packs in force say."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cache = ReadCache({})


class _ForeverCache(ReadCache):
    """Judges every cached read as if it had just been read."""

    def answer(self, request: ServiceRequest, now: datetime) -> SMETS1Response | None:
        key = self._key(request)
        entry = self._entries.get(key) if key is not None else None
        return super().answer(request, entry.read_at if entry is not None else now)


class CachesForever(ReferenceS1SP):
    """Serves a cached read however old it is."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cache = _ForeverCache(self.cache.periods)


class CachesBeforeAccessCheck(ReferenceS1SP):
    """Consults its cache before checking the User's role."""

    def handle(self, request: ServiceRequest) -> Exchange:
        """A cached answer to anyone; otherwise the reference S1SP's handling."""
        cached = self.cache.answer(request, self.clock.now())
        if cached is not None:
            return Exchange(request, response=cached)
        return super().handle(request)


class HardCodesCachePeriods(ReferenceS1SP):
    """Caches for the shipped packs' periods (4.10 1800 s, half-hourly 3600 s), whatever the catalogue says."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        shipped = {"4.10": 1800, "4.8.1": 3600, "4.8.3": 3600}
        self.cache = ReadCache({srv: shipped[srv] for srv in self.cache.periods})
