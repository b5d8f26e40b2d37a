"""The passed and not applicable scenarios of index.html, carried compressed and expanded by the page's script.

At gate scale (tens of DMCs) these scenarios are nearly all of the page: escaped XML, device commands and
steps in their bodies (107 MB at 40 DMCs when inline), and a summary row each (550 bytes, 4.5 MB at 40
DMCs) that says the same thing on every DMC. The page lists a scenario example on every DMC one after the
other, and the examples of a feature file one after the other (see :func:`s1sr.report.html.ordered`):
each such run of one feature file's scenarios of one outcome, up to :data:`PACK_CHARS` of bodies, is a
*group*, kept in two gzip + base64 data blocks (``<script type="application/gzip">``, which no browser
runs):

- its *rows* block stands where the rows would be; the page's script replaces it with the rows
  (``DecompressionStream('gzip')``) as the page loads, so the list, the filters and the counts are the
  same as with every row inline. Rows of one example on several DMCs differ in the DMC, the anchor
  and the duration, so gzip stores each one after the first in a few dozen bytes.
- its *pack* holds the bodies, expanded when a scenario is opened: each row's body is a placeholder
  (an inert ``<template>``) naming the pack and its item. Bodies of one example differ in little but
  ids and signatures, so gzip stores each one after the first in a few hundred bytes; the first body
  of an example costs least after another example of its feature, hence one group per feature.

A group is compressed as it comes and written as soon as the next scenario is not in it, so a page is
written as a stream, holding one group's compressed bytes at a time. Failures, errors, not run and
waived scenarios stay inline: they are what a reader (and the printed page) needs without a script.
"""

from __future__ import annotations

import base64
import gzip
import re
import zlib

from markupsafe import Markup

#: The outcomes whose scenarios are packed; every other outcome keeps its row and body inline.
PACKED_OUTCOMES = frozenset({"passed", "not applicable"})

#: The most body text (characters) one pack holds: what the page inflates to open one scenario of it.
PACK_CHARS = 4_000_000

#: Between the bodies of one pack: a character HTML text never holds (a NUL in a body is replaced).
SEPARATOR = "\x00"

# What a browser without JavaScript shows in a packed body is said once, by the page's CSS, not per body.
_HOLE = '<template class="packed" data-pack="{pack}" data-item="{item}"></template>'
_HOLES = re.compile(r'<template class="packed" data-pack="(\d+)" data-item="(\d+)"></template>')
_BLOCK = '<script type="application/gzip" class="pack" id="pack-{pack}">{blob}</script>\n'
_BLOCKS = re.compile(r'<script type="application/gzip" class="pack" id="pack-(\d+)">([A-Za-z0-9+/=]*)</script>\n')
_ROWS = '<script type="application/gzip" class="rows">{blob}</script>\n'
_ROWS_BLOCKS = re.compile(r'<script type="application/gzip" class="rows">([A-Za-z0-9+/=]*)</script>\n')
# The page's note, for a browser without JavaScript, that the packed scenarios are listed only with one.
_NOTES = re.compile(r'<noscript id="packed-note">.*?</noscript>\n', re.DOTALL)


class _Gzip:
    """One gzip member written a piece at a time: only its compressed bytes are kept."""

    def __init__(self) -> None:
        self._zip = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip header (mtime 0) and trailer
        self._out: list[bytes] = []
        self.chars = 0

    def add(self, text: str) -> None:
        """Compress ``text`` after what was added before."""
        self.chars += len(text)
        self._out.append(self._zip.compress(text.encode("utf-8")))

    def blob(self) -> str:
        """The member, base64-encoded: the text of a data block. Nothing can be added after."""
        self._out.append(self._zip.flush())
        return base64.b64encode(b"".join(self._out)).decode("ascii")


def decompress(blob: str) -> str:
    """The text that ``blob`` (the base64 text of one data block) stands for."""
    return gzip.decompress(base64.b64decode(blob, validate=True)).decode("utf-8")


class Packer:
    """The groups of one page as it is written: which rows and bodies are kept, and their data blocks.

    For each scenario, in page order, the template calls :meth:`enter` with the scenario's group (a
    key naming its feature file and outcome; None for a scenario shown inline) and writes what it
    returns, then :meth:`hole` with the rendered body of a packed scenario (the placeholder to show
    instead), then :meth:`row` with the rendered row, and writes what that returns; :meth:`close` after
    the last. A group is the scenarios of one key that follow one another, up to :data:`PACK_CHARS`
    of bodies; its blocks are written where its rows would have been, as soon as a scenario of another
    key (or :meth:`close`) ends it. Rows and bodies are compressed as they come.
    """

    def __init__(self, pack_chars: int = PACK_CHARS) -> None:
        self._pack_chars = pack_chars
        self._group: str | None = None
        self._packs = 0
        # the current group's rows and bodies (None between groups), and how many bodies it has
        self._rows: _Gzip | None = None
        self._bodies: _Gzip | None = None
        self._items = 0

    def enter(self, group: str | None) -> Markup:
        """Start the next scenario, in ``group`` (None: inline); the blocks of the group it ends, if any."""
        if group == self._group and (self._bodies is None or self._bodies.chars < self._pack_chars):
            return Markup("")
        done = self.close()
        if group is not None:
            self._group, self._rows, self._bodies = group, _Gzip(), _Gzip()
        return done

    def hole(self, body: str) -> Markup:
        """Keep ``body`` (rendered markup) of the current scenario in its group's pack; the placeholder to show."""
        if self._bodies is None:
            raise ValueError("hole() outside a group: enter() the scenario's group first")
        self._bodies.add((SEPARATOR if self._items else "") + str(body).replace(SEPARATOR, "\ufffd"))
        self._items += 1
        return Markup(_HOLE.format(pack=self._packs, item=self._items - 1))

    def row(self, row: str) -> Markup:
        """The current scenario's rendered ``row`` as it goes on the page: itself if inline, else nothing (kept)."""
        if self._rows is None:
            return Markup(row)
        self._rows.add(str(row))
        return Markup("")

    def close(self) -> Markup:
        """End the current group: the data blocks of its rows and bodies (nothing when inline or empty)."""
        rows, bodies, items = self._rows, self._bodies, self._items
        self._group, self._rows, self._bodies, self._items = None, None, None, 0
        if rows is None or bodies is None or not rows.chars:
            return Markup("")
        pack = self._packs
        self._packs += 1
        blocks = _ROWS.format(blob=rows.blob())
        if items:
            blocks += _BLOCK.format(pack=pack, blob=bodies.blob())
        return Markup(blocks)


def unpacked(page: str) -> str:
    """``page`` with every packed row and body expanded in place and the data blocks gone, as if inline.

    For readers and tests that search the page's text without a browser.
    """
    page = _NOTES.sub("", page)
    page = _ROWS_BLOCKS.sub(lambda block: decompress(block[1]), page)
    packs = {int(n): decompress(blob).split(SEPARATOR) for n, blob in _BLOCKS.findall(page)}
    page = _BLOCKS.sub("", page)
    return _HOLES.sub(lambda hole: packs[int(hole[1])][int(hole[2])], page)
