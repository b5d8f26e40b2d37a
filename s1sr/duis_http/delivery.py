"""Asynchronous DUIS responses: POSTed to the User's response endpoint, with bounded retries.

DCC delivers the response to an acknowledged (``I99``) request by POSTing it, as
``application/xml``, to the User's configured endpoint, which answers 204. Here: any 2xx is
delivered; a 4xx is the endpoint refusing that response (not retried: the same bytes would
be refused again); no answer, a connection failure or a 5xx is retried after 1 s, then 2 s,
up to ``attempts`` in all, each attempt bounded by ``attempt_timeout_s``. Each attempt writes
one log line.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from s1sr import __version__
from s1sr.bounded_http.lines import log_time, one_line
from s1sr.duis_http.services import XML_MEDIA_TYPE
from s1sr.errors import ConfigError

#: Where delivery log lines go (one line each, no newline).
DeliveryLog = Callable[[str], None]


@dataclass(frozen=True)
class DeliveryPolicy:
    """Where asynchronous responses go and how hard to try."""

    url: str
    attempts: int = 3
    attempt_timeout_s: float = 10.0
    first_backoff_s: float = 1.0

    def __post_init__(self) -> None:
        check_response_url(self.url)
        if not 1 <= self.attempts <= 10:
            raise ConfigError(f"{self.attempts} delivery attempts is outside 1..10", "delivery policy")
        if not 0 < self.attempt_timeout_s <= 120:
            raise ConfigError(
                f"{self.attempt_timeout_s:g} s per delivery attempt is outside (0, 120] s", "delivery policy"
            )


def check_response_url(url: str, option: str = "--response-url") -> str:
    """An http(s) URL with a host and no credentials or fragment; ConfigError if not."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ConfigError(f"'{one_line(url, 80)}' is not a URL ({exc})", option) from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise ConfigError(
            f"'{one_line(url, 80)}' is not an http(s) URL", option, "e.g. http://127.0.0.1:8090/duis/response"
        )
    if parsed.userinfo or parsed.fragment:
        raise ConfigError(f"'{one_line(url, 80)}' carries credentials or a fragment", option)
    return url


def delivery_line(label: str, url: str, outcome: str, seconds: float, attempt: int, attempts: int) -> str:
    """One delivery log line: when, what, where, how it went, how long, which attempt."""
    return (
        f"s1sr-duis {log_time()} deliver {label} -> {one_line(url, 120)}: {one_line(outcome, 200)}"
        f" {seconds * 1000:.1f} ms (attempt {attempt} of {attempts})"
    )


class Deliverer:
    """POSTs responses to one response endpoint from the server's event loop."""

    def __init__(self, policy: DeliveryPolicy, log: DeliveryLog) -> None:
        self.policy = policy
        self.log = log
        self._client: httpx.AsyncClient | None = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:  # made in the event loop that uses it
            self._client = httpx.AsyncClient(
                follow_redirects=False,
                trust_env=False,  # the User's endpoint is called directly: no proxy from the environment
                headers={"Content-Type": XML_MEDIA_TYPE, "User-Agent": f"s1sr-duis/{__version__}"},
                limits=httpx.Limits(max_connections=8, max_keepalive_connections=2, keepalive_expiry=2.0),
            )
        return self._client

    async def deliver(self, xml: bytes, label: str) -> bool:
        """POST ``xml`` until the endpoint takes it or the attempts run out; whether it was taken."""
        policy = self.policy
        for attempt in range(1, policy.attempts + 1):
            started = time.monotonic()
            try:
                async with self._http().stream(
                    "POST", policy.url, content=xml, timeout=httpx.Timeout(policy.attempt_timeout_s)
                ) as answer:
                    status = answer.status_code  # its body, if any, is not read: only the status counts
            except httpx.TimeoutException:
                outcome = f"no answer within {policy.attempt_timeout_s:g} s"
            except httpx.HTTPError as exc:
                outcome = f"cannot deliver: {type(exc).__name__}: {exc}"
            else:
                if 200 <= status < 300:
                    self.log(
                        delivery_line(
                            label, policy.url, f"HTTP {status}", time.monotonic() - started, attempt, policy.attempts
                        )
                    )
                    return True
                if 400 <= status < 500:
                    outcome = f"HTTP {status}: refused by the response endpoint, not retried"
                    self.log(
                        delivery_line(label, policy.url, outcome, time.monotonic() - started, attempt, policy.attempts)
                    )
                    return False
                outcome = f"HTTP {status}"
            elapsed = time.monotonic() - started
            if attempt == policy.attempts:
                self.log(delivery_line(label, policy.url, f"{outcome}; given up", elapsed, attempt, policy.attempts))
                return False
            backoff = policy.first_backoff_s * 2 ** (attempt - 1)
            self.log(
                delivery_line(
                    label, policy.url, f"{outcome}; retry in {backoff:g} s", elapsed, attempt, policy.attempts
                )
            )
            await asyncio.sleep(backoff)
        return False

    async def close(self) -> None:
        """Close the connections to the response endpoint."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None
