"""Parse untrusted XML safely: no entities, no DTDs, no network, bounded size and depth."""

from __future__ import annotations

import re
from pathlib import Path

from lxml import etree

from s1sr.errors import InputError

#: Largest document accepted, in bytes. A DUIS FirmwareImage may hold 10,240,000
#: base64 characters, so the limit leaves room for one such request and its envelope.
MAX_DOCUMENT_BYTES = 12 * 1024 * 1024
#: Deepest element nesting accepted. The deepest DUIS 5.4 request is under 20 levels.
MAX_DEPTH = 64


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        # libxml2 refuses text nodes over 10,000,000 bytes unless huge_tree is on, and a DUIS
        # FirmwareImage may hold 10,240,000 characters. huge_tree lifts libxml2's own limits, so
        # the limits stand here instead: size (MAX_DOCUMENT_BYTES), no DOCTYPE (so no entity
        # can expand), and depth (MAX_DEPTH) are checked by this module.
        huge_tree=True,
        remove_blank_text=False,
        collect_ids=False,
    )


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
    empty input, over-size input, a DOCTYPE (and so any entity), non-UTF-8 text,
    syntax errors, or nesting deeper than :data:`MAX_DEPTH`.
    """
    if not data.strip():
        raise InputError("document is empty", where, "give a DUIS XML document")
    if len(data) > max_bytes:
        raise InputError(f"document is {len(data):,} bytes, over the {max_bytes:,}-byte limit", where)
    if _has_doctype(data):
        raise InputError(
            "document has a DOCTYPE; DTDs and entity declarations are not allowed in DUIS",
            where,
            "remove the DOCTYPE",
        )
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"document is not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            where,
            "save it as UTF-8",
        ) from None
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        message = str(exc.msg or exc).splitlines()[0]
        line = f" (line {exc.lineno})" if exc.lineno else ""
        raise InputError(f"not well-formed XML{line}: {message}", where, "fix the XML syntax") from None
    if root is None:
        raise InputError("document has no root element", where)
    _check_depth(root, where)
    return root


_PROLOG = re.compile(rb"\A(?:\xef\xbb\xbf)?(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.DOTALL)


def _has_doctype(data: bytes) -> bool:
    """Whether a DOCTYPE stands in the prolog (before the root element)."""
    prolog_end = _PROLOG.match(data[:65536])
    rest = data[prolog_end.end() if prolog_end else 0 :]
    return rest[:9].upper() == b"<!DOCTYPE"


def _check_depth(root: etree._Element, where: str) -> None:
    depth = 0
    for event, _ in etree.iterwalk(root, events=("start", "end")):
        depth += 1 if event == "start" else -1
        if depth > MAX_DEPTH:
            raise InputError(f"elements nest deeper than {MAX_DEPTH} levels", where, "this is not a DUIS message")
