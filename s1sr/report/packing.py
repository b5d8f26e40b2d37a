"""Scenario bodies that index.html carries compressed and the page expands when a reader opens them.

At gate scale (tens of DMCs) the escaped XML, device commands and steps of passed exchanges were most of
the page (107 MB at 40 DMCs). The body of a passed or not applicable scenario is rendered as before, then
kept in a *pack*: one gzip + base64 data block (``<script type="application/gzip">``, which no browser
runs) per scenario example, holding its bodies on every DMC, in DMC order. Bodies of one example on
similar DMCs differ in little but ids and signatures, so gzip stores each one after the first in a few
hundred bytes. The body itself holds a placeholder (an inert ``<template>``) naming its pack and item;
the page's script expands it with ``DecompressionStream('gzip')`` when the scenario is opened, so an
opened scenario has the same DOM as when it was inline. Failures, errors, not run and waived scenarios
stay inline: they are what a reader (and the printed page) needs without a script.
"""

from __future__ import annotations

import base64
import gzip
import re
from collections.abc import Iterable

from markupsafe import Markup

#: The outcomes whose scenario bodies are packed; every other outcome keeps its body inline.
PACKED_OUTCOMES = frozenset({"passed", "not applicable"})

#: Between the bodies of one pack: a character HTML text never holds (a NUL in a body is replaced).
SEPARATOR = "\x00"

# What a browser without JavaScript shows in a packed body is said once, by the page's CSS, not per body.
_HOLE = '<template class="packed" data-pack="{pack}" data-item="{item}"></template>'
_HOLES = re.compile(r'<template class="packed" data-pack="(\d+)" data-item="(\d+)"></template>')
_BLOCK = '<script type="application/gzip" class="pack" id="pack-{pack}">{blob}</script>\n'
_BLOCKS = re.compile(r'<script type="application/gzip" class="pack" id="pack-(\d+)">([A-Za-z0-9+/=]*)</script>\n')


def compress(text: str) -> str:
    """``text`` gzip-compressed and base64-encoded; deterministic (no timestamp in the gzip header)."""
    return base64.b64encode(gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)).decode("ascii")


def decompress(blob: str) -> str:
    """The text that ``blob`` (the base64 text of one data block) stands for."""
    return gzip.decompress(base64.b64decode(blob, validate=True)).decode("utf-8")


class Packer:
    """The packs of one page: which scenario bodies are packed, where each goes, and the data blocks.

    ``scenarios`` are ``(anchor, example, dmc)`` of every scenario to pack: one pack per ``example`` (a
    scenario id without its DMC), its bodies in ``dmc`` order. The template calls :meth:`add` with each
    rendered body, then :meth:`blocks` once, after the last scenario.
    """

    def __init__(self, scenarios: Iterable[tuple[str, str, str]]) -> None:
        examples: dict[str, list[tuple[str, str]]] = {}
        for anchor, example, dmc in scenarios:
            examples.setdefault(example, []).append((dmc, anchor))
        self._slots: dict[str, tuple[int, int]] = {}
        self._bodies: list[list[str]] = []
        for pack, members in enumerate(examples.values()):
            for item, (_, anchor) in enumerate(sorted(members)):
                self._slots[anchor] = (pack, item)
            self._bodies.append([""] * len(members))

    def holds(self, anchor: str) -> bool:
        """Whether the scenario at ``anchor`` is packed."""
        return anchor in self._slots

    def add(self, anchor: str, body: str) -> Markup:
        """Keep ``body`` (rendered markup) for the scenario at ``anchor``; the placeholder the page shows."""
        pack, item = self._slots[anchor]
        self._bodies[pack][item] = str(body).replace(SEPARATOR, "\ufffd")
        return Markup(_HOLE.format(pack=pack, item=item))

    def blocks(self) -> Markup:
        """The data blocks of every pack, one per line."""
        return Markup(
            "".join(_BLOCK.format(pack=n, blob=compress(SEPARATOR.join(b))) for n, b in enumerate(self._bodies))
        )


def unpacked(page: str) -> str:
    """``page`` with every packed body expanded in place and the data blocks gone, as if inline.

    For readers and tests that search the page's text without a browser.
    """
    packs = {int(n): decompress(blob).split(SEPARATOR) for n, blob in _BLOCKS.findall(page)}
    page = _BLOCKS.sub("", page)
    return _HOLES.sub(lambda hole: packs[int(hole[1])][int(hole[2])], page)
