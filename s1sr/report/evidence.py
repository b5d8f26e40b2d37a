"""A journaled scenario's evidence, read from its journal line each time a report needs it.

The evidence of a scenario (every request and response, the device commands) is nearly all of its
record: about 16 kB a scenario example, 130 MB for a 40-DMC gate. A record rebuilt from a journal, and
the record a run keeps in memory once a scenario is journaled, hold only where each scenario's line
is; a report reads one scenario's evidence at a time, as it writes that scenario, so a run's memory
does not grow with its evidence.

The journal file is opened once and read by offset, so a journal that is removed (a temporary one) or
moved (into the archive) after it was read still serves its evidence. A journal whose line changed
since it was read (a new run into the same journal) is refused in one line, never read as another
scenario's evidence.
"""

from __future__ import annotations

import json
import os
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, overload

from s1sr.errors import InputError


class JournalSource:
    """A journal file held open for reading lines by offset (closed when nothing refers to it any more)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        self._closer = weakref.finalize(self, os.close, self._handle)

    def line(self, offset: int, length: int) -> Any:
        """The JSON line of ``length`` bytes at ``offset``, parsed; :class:`InputError` when it cannot be read."""
        chunks: list[bytes] = []
        got = 0
        try:
            while got < length:
                chunk = os.pread(self._handle, length - got, offset + got)
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
        except OSError as exc:
            raise InputError(f"cannot read the journal again ({exc.strerror or exc})", str(self.path)) from None
        try:
            return json.loads(b"".join(chunks)) if got == length else None
        except ValueError:
            return None

    def close(self) -> None:
        """Close the file now (later reads fail)."""
        self._closer()


class JournaledEvidence(Sequence[dict[str, Any]]):
    """A scenario's evidence as its journal line holds it: read on each iteration, never kept.

    Compares equal to a list of the same exchanges. ``len`` is known without reading the file.
    """

    __slots__ = ("_count", "_length", "_offset", "_scenario", "_source")

    def __init__(self, source: JournalSource, offset: int, length: int, scenario: str, count: int) -> None:
        self._source = source
        self._offset = offset
        self._length = length
        self._scenario = scenario
        self._count = count

    def load(self) -> list[dict[str, Any]]:
        """The exchanges, read from the journal now."""
        line = self._source.line(self._offset, self._length)
        if not isinstance(line, dict) or line.get("id") != self._scenario or not isinstance(line.get("evidence"), list):
            raise InputError(
                f"changed since it was read: the evidence of scenario {self._scenario} is no longer where it was",
                str(self._source.path),
                "render the reports from a journal no run is writing",
            )
        evidence: list[dict[str, Any]] = line["evidence"]
        return evidence

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.load() if self._count else [])

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        return self.load()[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, JournaledEvidence | list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # equal to a list, so unhashable like one

    def __repr__(self) -> str:
        return f"JournaledEvidence({self._scenario!r}, {self._count} exchange(s) at {self._source.path}:{self._offset})"
