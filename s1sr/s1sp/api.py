"""The S1SP interface the harness tests: DUIS request XML in, DUIS response XML out.

An S1SP under test (the reference one, or a candidate release plugged in through the
entry-point group ``s1sr.s1sp`` or ``module:attr``) is built by :meth:`S1SP.create` for
one S1SR version, one DMC, one device adapter and one signing identity, and answers
each request with a DUIS ``sr:Response`` carrying a signed SMETS1 Response. It refuses a
request that is not valid DUIS by raising :class:`RequestRefused`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from s1sr.catalogue import DMC, Catalogue
from s1sr.devices.adapter import DeviceAdapter
from s1sr.duis.signing import Credentials
from s1sr.errors import InputError
from s1sr.s1sp.clock import Clock, SystemClock


class RequestRefused(InputError):
    """The S1SP refused the request as invalid DUIS (no SMETS1 Response is produced)."""


class S1SP(ABC):
    """Base of every S1SP the harness can test."""

    #: Name under which the S1SP is registered (``--s1sp NAME``).
    name: ClassVar[str] = ""
    #: The S1SP's time, for what it judges by age (a cache period); the harness may give its own.
    clock: Clock = SystemClock()

    def can_act_as(self, user_id: str) -> bool:
        """Whether requests from the User ``user_id`` can reach this S1SP (in process: any User)."""
        return True

    def use_clock(self, clock: Clock) -> None:
        """Keep time by ``clock`` (the harness's, so a scenario can let time pass); an S1SP may ignore it."""
        self.clock = clock

    @classmethod
    @abstractmethod
    def create(
        cls, catalogue: Catalogue, dmc: DMC, adapter: DeviceAdapter, credentials: Credentials, timeout_s: float
    ) -> S1SP:
        """Build the S1SP for one S1SR version, one DMC and one device adapter."""

    @abstractmethod
    def respond(self, request_xml: bytes) -> bytes:
        """Answer one DUIS request document with a DUIS response document (or raise RequestRefused)."""
