"""Reading an HTTP answer within a size limit and a deadline, for the harness's clients.

The remote device adapter and the DUIS User's client stream every answer through
:func:`read_answer`: a body over the limit, announced or arriving, is refused without reading
the rest, and one still arriving past the deadline is a timeout, however slowly it trickles.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from s1sr.bounded_http.lines import one_line


def read_answer(
    answer: httpx.Response, limit: int, deadline: float, said: str, error: Callable[[str], Exception]
) -> bytes:
    """The body of a streamed ``answer``: at most ``limit`` bytes, read in full by ``deadline`` (``time.monotonic``).

    An encoded, announced-too-large or too-large answer raises ``error(message)``, the message
    starting with ``said`` (who answered what, e.g. "device endpoint URL answered GET /v1/devices");
    past the deadline, :class:`httpx.ReadTimeout`, which the caller reports as its own timeout.
    """
    encoding = answer.headers.get("content-encoding", "identity").strip().lower()
    if encoding != "identity":
        raise error(f"{said} encoded {one_line(encoding, 40)!r}, not plain")
    declared = answer.headers.get("content-length", "")
    if declared.isdecimal() and int(declared) > limit:
        raise error(f"{said} with {declared} bytes, over {limit}")
    data = bytearray()
    for chunk in answer.iter_raw():
        data += chunk
        if len(data) > limit:
            raise error(f"{said} with more than {limit} bytes")
        if time.monotonic() > deadline:
            raise httpx.ReadTimeout("the answer is still arriving")
    return bytes(data)
