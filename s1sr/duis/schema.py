"""Validation against the official DUIS schema (SEC Appendix AD), compiled once per process.

The harness never ships the schema: the user names their copy with ``--xsd``,
the environment variable ``S1SR_DUIS_XSD``, or ``[tool.s1sr] duis_xsd`` in a
``pyproject.toml`` (searched upward from the working directory).

lxml validates (fast); xmlschema explains (slow, only when a document is invalid, and
only a small one with few errors: its cost grows with errors times attributes, so a
flood of bad attributes would take minutes; lxml's own messages stand in for it).
libxml2 silently skips an ``xs:import`` whose ``schemaLocation`` holds a space, as
the DUIS schema's import of ``MMC Schema V5.4.xsd`` does, so the schema text is
loaded with such spaces escaped as ``%20``.

Both compile offline from the schema's own folder: an import or include naming a URL
or a file elsewhere is refused (lxml) or blocked (xmlschema), never fetched.
"""

from __future__ import annotations

import os
import re
import threading
import tomllib
from dataclasses import dataclass
from functools import cache
from itertools import islice
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from lxml import etree

from s1sr.duis.explain import plain_reason
from s1sr.duis.namespaces import NSMAP
from s1sr.duis.safe_xml import readable, shorten
from s1sr.errors import ConfigError

ENV_XSD = "S1SR_DUIS_XSD"
ENV_REQUIRE = "S1SR_REQUIRE_XSD"

_LOCATION = re.compile(rb'schemaLocation="([^"]*)"')

#: The explainer (xmlschema) runs only on a document of at most this many bytes, this many
#: elements and this many libxml2 errors; any other is described by libxml2's own messages.
#: Measured: xmlschema takes 0.1-0.3 s on 2,000 elements (the largest RTDS request has 436),
#: but 2.7 s on 16,000 unexpected siblings and 6 s on 8,000 bad attributes (its cost grows
#: with errors times attributes). lxml takes milliseconds on all of them.
EXPLAIN_MAX_BYTES = 256 * 1024
EXPLAIN_MAX_ELEMENTS = 2_000
EXPLAIN_MAX_ERRORS = 20


@dataclass(frozen=True)
class SchemaSetting:
    """Where the schema path came from, for messages."""

    path: Path | None
    source: str


def find_schema(explicit: str | os.PathLike[str] | None = None, start: Path | None = None) -> SchemaSetting:
    """Resolve the DUIS schema path: explicit value, then environment, then ``pyproject.toml``."""
    if explicit:
        return SchemaSetting(Path(explicit), "--xsd")
    env = os.environ.get(ENV_XSD)
    if env:
        return SchemaSetting(Path(env), ENV_XSD)
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            try:
                data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError):
                return SchemaSetting(None, f"{pyproject} (unreadable)")
            value = data.get("tool", {}).get("s1sr", {}).get("duis_xsd")
            if value:
                return SchemaSetting((folder / value).resolve(), f"[tool.s1sr] duis_xsd in {pyproject}")
            break
    return SchemaSetting(None, "not configured")


@dataclass(frozen=True)
class Problem:
    """One reason a document is invalid: where (element path and line) and what."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        line = f" (line {self.line})" if self.line else ""
        return f"{self.path}{line}: {self.message}"


class _SchemaFolder(etree.Resolver):
    """Lets libxml2 read, while compiling the schema, files of the schema's folder and nothing else."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder
        self.refused: list[str] = []

    def resolve(self, system_url: str, public_id: str, context: object) -> Any:  # type: ignore[override]  # stubs lack context
        if _in_folder(system_url, self.folder):
            return None  # libxml2 reads it as usual
        self.refused.append(system_url)
        return self.resolve_string("", context, base_url=None)  # nothing to import; refused after compiling


def _in_folder(url: str, folder: Path) -> bool:
    parts = urlsplit(url)
    if parts.scheme not in ("", "file") or parts.netloc not in ("", "localhost"):
        return False
    return Path(os.path.normpath(unquote(parts.path))).is_relative_to(folder)


class DuisSchema:
    """The compiled DUIS schema. Create through :func:`load_schema` so it is compiled once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._explainer: Any = None
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ConfigError(
                f"cannot read the DUIS schema ({exc.strerror})",
                str(path),
                f"pass --xsd PATH or set {ENV_XSD} to your copy of the DUIS schema",
            ) from None
        text = _LOCATION.sub(lambda m: b'schemaLocation="' + m.group(1).replace(b" ", b"%20") + b'"', raw)
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        folder = _SchemaFolder(path.resolve().parent)
        parser.resolvers.add(folder)
        try:
            doc = etree.fromstring(text, parser, base_url=path.resolve().as_uri())
            self._schema = etree.XMLSchema(doc)
        except (etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
            if not folder.refused:
                first = str(exc).splitlines()[0]
                raise ConfigError(
                    f"the DUIS schema does not compile: {readable(first)}",
                    str(path),
                    "point --xsd at the official DUIS schema with its MMC and xmldsig files beside it",
                ) from None
        if folder.refused:
            raise ConfigError(
                f"the schema imports {shorten(folder.refused[0], 200)!r}, outside its folder; "
                "schemas are read offline, from their own folder only",
                str(path),
                "put a copy of that file beside the schema and name it by a relative schemaLocation",
            )

    def is_valid(self, root: etree._Element) -> bool:
        """Fast check with lxml."""
        with self._lock:  # libxml2 validation contexts are not shared across threads
            return bool(self._schema.validate(root))

    def problems(self, root: etree._Element, limit: int = 5) -> list[Problem]:
        """Explain why ``root`` is invalid in plain words (empty when it is valid).

        Every message is one line with each value it quotes cut to a readable length.
        """
        with self._lock:
            if self._schema.validate(root):
                return []
            log = self._schema.error_log
            count = len(log)  # type: ignore[arg-type]  # sized; the stubs do not say so
            raw = [
                Problem(_short_path(e.path or "/"), e.line, readable(_short_names(e.message)))
                for e in islice(log, limit)  # type: ignore[call-overload]  # iterable; the stubs do not say so
            ]
        if _explainable(root, count):
            explained = self._explain(root, limit)
            if explained:
                return explained
        return raw

    def _explain(self, root: etree._Element, limit: int) -> list[Problem]:
        try:
            import xmlschema

            with self._lock:
                if self._explainer is None:
                    # Offline and in the schema's folder only: no URL, no other file, no fallback
                    # copies from xmlschema's own package. The document itself is already parsed.
                    self._explainer = xmlschema.XMLSchema(
                        str(self.path),
                        allow="sandbox",
                        base_url=str(self.path.resolve().parent),
                        defuse="nonlocal",
                        use_fallback=False,
                    )
            found: list[Problem] = []
            for error in self._explainer.iter_errors(root, use_location_hints=False):
                reason = plain_reason(error, self._explainer)
                found.append(Problem(_short_path(error.path or "/"), getattr(error, "sourceline", None), reason))
                if len(found) >= limit:
                    break
            return found
        except Exception:  # the explainer is a courtesy; lxml's own messages stand in for it
            return []


def _explainable(root: etree._Element, errors: int) -> bool:
    """Whether xmlschema may explain this document within its time budget (cheapest test first)."""
    return (
        errors <= EXPLAIN_MAX_ERRORS
        and int(root.xpath("count(//*)")) <= EXPLAIN_MAX_ELEMENTS  # type: ignore[arg-type]  # a number
        and len(etree.tostring(root)) <= EXPLAIN_MAX_BYTES
    )


def _short_path(path: str) -> str:
    """An element path without namespace URIs, each step cut to a readable length."""
    return "/".join(shorten(step) for step in re.sub(r"\{[^}]*\}", "", path).split("/"))


def _short_names(message: str) -> str:
    """libxml2's message with the DUIS, MMC and xmldsig namespaces written as their prefixes.

    ``{http://www.dccinterface.co.uk/ServiceUserGateway}RequestID`` becomes ``sr:RequestID``;
    any other namespace stays, since a foreign one is often the very mistake.
    """
    for prefix, uri in NSMAP.items():
        message = message.replace(f"{{{uri}}}", f"{prefix}:")
    return message


@cache
def load_schema(path: Path) -> DuisSchema:
    """Compile the schema at ``path`` once per process."""
    return DuisSchema(path.resolve())


def schema_required() -> bool:
    """Whether a missing schema must fail rather than skip (``S1SR_REQUIRE_XSD`` is set)."""
    return os.environ.get(ENV_REQUIRE, "") not in ("", "0", "false", "no")
