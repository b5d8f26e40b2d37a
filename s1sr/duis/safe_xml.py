"""Parse untrusted XML safely: no entities, no DTDs, no network, bounded size and shape, one reading of each value.

Comments and processing instructions are dropped while parsing and CDATA sections are
merged, so an element's ``.text`` is its whole string value: the value the DUIS schema
validates is the value the harness reads (``1<!-- -->200000`` is 1200000 to both).
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

from lxml import etree

from s1sr.errors import InputError

#: Largest document accepted, in bytes. A DUIS FirmwareImage may hold 10,240,000
#: base64 characters, so the limit leaves room for one such request and its envelope.
MAX_DOCUMENT_BYTES = 12 * 1024 * 1024
#: Deepest element nesting accepted. The deepest DUIS 5.4 request is under 20 levels.
MAX_DEPTH = 64
#: Most attributes accepted in one document. The largest DUIS firmware request names 50,000
#: devices, and a response with an outcome for each carries 100,000 attributes. Each attribute
#: costs libxml2 some 400 bytes and, when the schema refuses it, lxml another 900 for the error:
#: 800,000 attributes (8.7 MB) took 1 GB and 6 s to validate.
MAX_ATTRIBUTES = 150_000
#: Characters of an untrusted value echoed in a message before it is cut.
SHOWN_CHARS = 60

# The elements at depth MAX_DEPTH + 1 below the root, if any: one XPath step per level,
# evaluated in libxml2 (a fifth of the time of walking start and end events in Python).
# Compiled once: lxml serialises calls of one XPath object across threads.
_TOO_DEEP = etree.XPath("(" + "/".join(["*"] * MAX_DEPTH) + ")[1]")
_ATTRIBUTES = etree.XPath("count(//@*)")
#: The fewest bytes an attribute takes in a document (`` a=""``): a shorter document cannot hold
#: more than MAX_ATTRIBUTES (no DOCTYPE, so no attribute comes from anywhere but its bytes).
_ATTRIBUTE_BYTES = 5


def _parser(target: Any = None) -> etree.XMLParser:  # lxml calls only the methods a target has
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        # libxml2 refuses text nodes over 10,000,000 bytes unless huge_tree is on, and a DUIS
        # FirmwareImage may hold 10,240,000 characters. huge_tree lifts libxml2's own limits, so
        # the limits stand here instead: size (MAX_DOCUMENT_BYTES), no DOCTYPE (so no entity
        # can expand), depth (MAX_DEPTH) and attributes (MAX_ATTRIBUTES) are checked by this module.
        huge_tree=True,
        remove_blank_text=False,
        # One reading of every value: text split by a comment or a processing instruction is
        # joined (CDATA is merged by default), as the schema joins it.
        remove_comments=True,
        remove_pis=True,
        strip_cdata=True,
        collect_ids=False,
        target=target,
    )


class _Parsers(threading.local):
    """This thread's two parsers, made once and reused for every document.

    An lxml parser may parse one document after another but not two at once, so each thread has
    its own; making the prolog parser costs more than using it (lxml inspects its target).
    """

    def __init__(self) -> None:
        self.document = _parser()
        self.prolog = _parser(_Prolog())


def read_document(path: Path, *, max_bytes: int = MAX_DOCUMENT_BYTES) -> bytes:
    """Read a file for parsing, refusing one larger than ``max_bytes`` before reading it whole."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(
                f"document is {size:,} bytes, over the {max_bytes:,}-byte limit",
                str(path),
                "split it or check that it is a DUIS message",
            )
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError("no such file", str(path), "check the path") from None
    except IsADirectoryError:
        raise InputError("is a directory, not an XML file", str(path), "name a file") from None
    except PermissionError:
        raise InputError("cannot be read (permission denied)", str(path), "check its permissions") from None
    if len(data) > max_bytes:
        raise InputError(f"document grew past the {max_bytes:,}-byte limit while read", str(path))
    return data


def parse_xml(data: bytes, where: str = "<input>", *, max_bytes: int = MAX_DOCUMENT_BYTES) -> etree._Element:
    """Parse ``data`` as one UTF-8 XML document and return its root element.

    Raises :class:`InputError` for anything that is not a plain, safe document:
    empty input, over-size input, a DOCTYPE (and so any entity declaration), an
    entity reference, non-UTF-8 text, syntax errors, nesting deeper than
    :data:`MAX_DEPTH`, or more than :data:`MAX_ATTRIBUTES` attributes. Comments and
    processing instructions are dropped, so each element's text is its whole string value.
    """
    if not data or data.isspace():  # as `not data.strip()`, without copying the document
        raise InputError("document is empty", where, "give a DUIS XML document")
    if len(data) > max_bytes:
        raise InputError(f"document is {len(data):,} bytes, over the {max_bytes:,}-byte limit", where)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"document is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            where,
            "save it as UTF-8",
        ) from None
    _refuse_doctype(data, where)
    try:
        root = etree.fromstring(data, _PARSERS.document)
    except etree.XMLSyntaxError as exc:
        message = str(exc.msg or exc).splitlines()[0]
        line = f" (line {exc.lineno})" if exc.lineno else ""
        raise InputError(f"not well-formed XML{line}: {shorten(message, 200)}", where, "fix the XML syntax") from None
    if root is None:
        raise InputError("document has no root element", where)
    _check_shape(root, len(data), where)
    return root


class _Doctype(Exception):
    """Raised by :class:`_Prolog` when libxml2 reports a document type declaration."""


class _RootReached(Exception):
    """Raised by :class:`_Prolog` at the root element: the prolog held no DOCTYPE."""


class _Prolog:
    """A parser target that stops the parse at the DOCTYPE or at the root element, whichever comes first.

    libxml2 reports the DOCTYPE before it reads the internal subset or opens an external one,
    so no entity declaration is processed and no file or URL is opened. A DOCTYPE after the
    root is not well-formed XML, which the full parse reports.
    """

    def doctype(self, name: str | None, public_id: str | None, system_url: str | None) -> None:
        raise _Doctype()

    def start(self, tag: str, attrib: object, nsmap: object = None) -> None:
        raise _RootReached()

    def close(self) -> None:
        return None


#: Bytes given to the prolog check at a time: it reads only as far as the root element.
_PROLOG_CHUNK = 64 * 1024

_PARSERS = _Parsers()


def _refuse_doctype(data: bytes, where: str) -> None:
    """Refuse a DOCTYPE wherever the prolog puts it, as libxml2 reads the prolog (not a prefix scan)."""
    # Each way out resets the feed parser (an exception from the target or a syntax error ends its
    # document, close() ends it otherwise), so the next document starts afresh; on any other way
    # out (an interrupt mid-feed) the parser is replaced rather than trusted.
    parser = _PARSERS.prolog
    try:
        for offset in range(0, len(data), _PROLOG_CHUNK):
            parser.feed(data[offset : offset + _PROLOG_CHUNK])
        parser.close()
    except _RootReached:
        return
    except _Doctype:
        raise InputError(
            "document has a DOCTYPE; DTDs and entity declarations are not allowed in DUIS",
            where,
            "remove the DOCTYPE",
        ) from None
    except etree.XMLSyntaxError:
        return  # the full parse names the syntax error
    except BaseException:
        _PARSERS.prolog = _parser(_Prolog())
        raise


def _check_shape(root: etree._Element, size: int, where: str) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` and more than :data:`MAX_ATTRIBUTES` attributes."""
    too_deep = _TOO_DEEP(root)
    if isinstance(too_deep, list) and too_deep:
        line = getattr(too_deep[0], "sourceline", None)
        at = f" (line {line})" if line else ""
        raise InputError(f"elements nest deeper than {MAX_DEPTH} levels{at}", where, "this is not a DUIS message")
    if size < _ATTRIBUTE_BYTES * MAX_ATTRIBUTES:
        return
    attributes = _ATTRIBUTES(root)
    if isinstance(attributes, float) and attributes > MAX_ATTRIBUTES:
        raise InputError(
            f"document has {int(attributes):,} attributes, over the limit of {MAX_ATTRIBUTES:,}",
            where,
            "this is not a DUIS message",
        )


def shorten(value: str, limit: int = SHOWN_CHARS) -> str:
    r"""``value`` as echoed in a message: whole when short, else its first ``limit`` characters and its length.

    Characters that do not print (a newline, a no-break space) are shown escaped, so the
    message stays on one line and says what is there.

    >>> print(shorten("12345", 3), shorten("\xa012"))
    123… (5 characters) \xa012
    """
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in value[:limit])
    return shown if len(value) <= limit else f"{shown}… ({len(value):,} characters)"


_QUOTED = re.compile(r"'([^']*)('|$)")
_SPACE = re.compile(r"\s+")


def _cut_quoted(match: re.Match[str]) -> str:
    value, closing = match.groups()
    if closing or len(value) <= SHOWN_CHARS:
        return f"'{shorten(value)}{closing}"
    # libxml2 cuts a long value itself (at 64,000 characters) and drops the closing quote,
    # so the length in its message is not the value's: say only that it goes on.
    return f"'{shorten(value[:SHOWN_CHARS])}…"


def readable(message: str, limit: int = 300) -> str:
    """A library's message (libxml2, xmlschema) on one line, each value it quotes and the whole cut short."""
    line = _QUOTED.sub(_cut_quoted, message)
    return shorten(_SPACE.sub(" ", line).strip(), limit)
