"""Validation against the official DUIS schema (SEC Appendix AD), compiled once per process.

The harness never ships the schema: the user names their copy with ``--xsd``,
the environment variable ``S1SR_DUIS_XSD``, or ``[tool.s1sr] duis_xsd`` in a
``pyproject.toml`` (searched upward from the working directory).

lxml validates (fast); xmlschema explains (slow, only when a document is invalid).
libxml2 silently skips an ``xs:import`` whose ``schemaLocation`` holds a space, as
the DUIS schema's import of ``MMC Schema V5.4.xsd`` does, so the schema text is
loaded with such spaces escaped as ``%20``.
"""

from __future__ import annotations

import os
import re
import threading
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from s1sr.errors import ConfigError

ENV_XSD = "S1SR_DUIS_XSD"
ENV_REQUIRE = "S1SR_REQUIRE_XSD"

_LOCATION = re.compile(rb'schemaLocation="([^"]*)"')


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
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        try:
            doc = etree.fromstring(text, parser, base_url=path.resolve().as_uri())
            self._schema = etree.XMLSchema(doc)
        except (etree.XMLSyntaxError, etree.XMLSchemaParseError) as exc:
            first = str(exc).splitlines()[0]
            raise ConfigError(
                f"the DUIS schema does not compile: {first}",
                str(path),
                "point --xsd at the official DUIS schema with its MMC and xmldsig files beside it",
            ) from None

    def is_valid(self, root: etree._Element) -> bool:
        """Fast check with lxml."""
        with self._lock:  # libxml2 validation contexts are not shared across threads
            return bool(self._schema.validate(root))

    def problems(self, root: etree._Element, limit: int = 5) -> list[Problem]:
        """Explain why ``root`` is invalid in plain words (empty when it is valid)."""
        with self._lock:
            if self._schema.validate(root):
                return []
            raw = list(self._schema.error_log)  # type: ignore[call-overload]  # iterable; the stubs do not say so
        explained = self._explain(root, limit)
        if explained:
            return explained
        return [Problem(_short_path(e.path or "/"), e.line, e.message) for e in raw[:limit]]

    def _explain(self, root: etree._Element, limit: int) -> list[Problem]:
        try:
            import xmlschema

            if self._explainer is None:
                self._explainer = xmlschema.XMLSchema(str(self.path))
            found: list[Problem] = []
            for error in self._explainer.iter_errors(etree.tostring(root)):
                found.append(
                    Problem(_short_path(error.path or "/"), getattr(error, "sourceline", None), _reason(error))
                )
                if len(found) >= limit:
                    break
            return found
        except Exception:  # the explainer is a courtesy; lxml's own messages stand in for it
            return []


def _reason(error: Any) -> str:
    """xmlschema's reason, shortened where it quotes a whole pattern or enumeration, with the value found."""
    reason = str(error.reason or error.message)
    kind = getattr(getattr(error, "validator", None), "name", None)
    if "pattern" in reason and len(reason) > 120:
        reason = "value does not have the form the schema requires"
    elif "must be one of" in reason and len(reason) > 120:
        reason = "value is not one of the values the schema lists"
    if isinstance(kind, str) and kind:
        reason += f" (type {etree.QName(kind).localname})"
    obj = getattr(error, "obj", None)
    text = obj if isinstance(obj, str) else getattr(obj, "text", None)
    if isinstance(text, str) and text.strip():
        reason += f"; found {text.strip()[:60]!r}"
    return reason


def _short_path(path: str) -> str:
    return re.sub(r"\{[^}]*\}", "", path)


@cache
def load_schema(path: Path) -> DuisSchema:
    """Compile the schema at ``path`` once per process."""
    return DuisSchema(path.resolve())


def schema_required() -> bool:
    """Whether a missing schema must fail rather than skip (``S1SR_REQUIRE_XSD`` is set)."""
    return os.environ.get(ENV_REQUIRE, "") not in ("", "0", "false", "no")
