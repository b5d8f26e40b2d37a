"""What the harness's HTTP endpoints write for people: access-log lines and one-line reasons."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence


def one_line(text: str, limit: int = 300) -> str:
    """``text`` on one line of printable ASCII, cut to ``limit`` (for an HTTP header or a log line)."""
    flat = " ".join(text.split())
    ascii_only = flat.encode("ascii", "replace").decode("ascii")
    return ascii_only if len(ascii_only) <= limit else ascii_only[: limit - 3] + "..."


def log_time() -> str:
    """Now, in UTC to the second, as every log line starts."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def access_line(
    name: str,
    client: tuple[str, int] | None,
    request: str,
    status: int,
    seconds: float,
    note: str = "",
    fields: Sequence[str] = (),
) -> str:
    """One access-log line: who logs, when, who called, the request, the status, ``fields``, how long, and why."""
    who = f"{client[0]}:{client[1]}" if client else "-"
    line = " ".join([f'{name} {log_time()} {who} "{one_line(request, 160)}" {status}', *fields])
    line += f" {seconds * 1000:.1f} ms"
    return f"{line} ({one_line(note, 300)})" if note else line


def to_stderr(line: str) -> None:
    """Write one log line to stderr at once (a log read while the server runs)."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()
