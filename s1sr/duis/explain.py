"""Why a DUIS document is invalid, in plain words: the element, the value found, what the schema allows.

xmlschema reports a rejection in its own and Python's words ("invalid literal for int() with
base 10", "<class '...DateTime10'>", "less than or equal than 3600"). :func:`plain_reason`
rewords the errors a user meets (a value of the wrong kind, out of range, not in a list,
not of a pattern's form, of the wrong length; a child element missing or out of place) from
the simple type the schema declares, and falls back to xmlschema's reason, tidied, for the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from s1sr.duis.namespaces import NSMAP
from s1sr.duis.safe_xml import readable, shorten

XS = "{http://www.w3.org/2001/XMLSchema}"
#: How many enumerated values a message lists before it only counts them.
SHOWN_VALUES = 8
#: Patterns longer than this are described, not quoted.
SHOWN_PATTERN = 60

#: DUIS types (or elements of an anonymous type) whose pattern is long but whose form is simple to say.
KNOWN_FORMS = {
    "RequestIDType": "originator:target:counter, e.g. 90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A0:1000",
    "EUI": "an EUI-64 such as 00-DB-12-34-56-78-90-A0",
    "DeviceIDList": "EUI-64s joined by commas, e.g. 00-DB-12-34-56-78-90-A0,00-DB-12-34-56-78-90-B0",
}

#: Primitive or built-in type -> what a value of it is, in words.
KINDS = {
    "integer": "a whole number",
    "decimal": "a number",
    "float": "a number",
    "double": "a number",
    "boolean": "a boolean (true, false, 1 or 0)",
    "dateTime": "a date and time such as 2030-01-15T09:00:00Z",
    "date": "a date such as 2030-01-15",
    "time": "a time of day such as 09:00:00",
    "duration": "a duration such as PT30M",
    "hexBinary": "hexadecimal (pairs of the digits 0-9, A-F)",
    "base64Binary": "base64 text",
    "anyURI": "a URI",
}


@dataclass
class TypeFacts:
    """What a simple type allows, gathered along its chain of restrictions (tightest bound wins)."""

    kind: str = "text"
    name: str = ""
    lowest: Any = None
    highest: Any = None
    min_length: int | None = None
    max_length: int | None = None
    values: list[str] = field(default_factory=list)
    patterns: list[str] = field(default_factory=list)

    def allowed(self) -> str:
        """What the schema allows, e.g. ``a whole number from 1 to 3600``."""
        if self.name in KNOWN_FORMS:
            return KNOWN_FORMS[self.name]
        if self.values:
            shown = ", ".join(shorten(v, 40) for v in self.values[:SHOWN_VALUES])
            more = f" and {len(self.values) - SHOWN_VALUES} more" if len(self.values) > SHOWN_VALUES else ""
            return f"one of {shown}{more}"
        words = self.kind
        if self.lowest is not None and self.highest is not None:
            words += f" from {self.lowest} to {self.highest}"
        elif self.lowest is not None:
            words += f" of at least {self.lowest}"
        elif self.highest is not None:
            words += f" of at most {self.highest}"
        words += self._length()
        if self.patterns:
            pattern = self.patterns[0]
            if len(pattern) <= SHOWN_PATTERN:
                words += f" matching the pattern {pattern}"
            else:
                words += " of the form the schema's pattern describes"
        return words

    def _length(self) -> str:
        unit = "bytes" if self.kind.startswith("hexadecimal") or self.kind == "base64 text" else "characters"
        if self.min_length is None and self.max_length is None:
            return ""
        if self.min_length == self.max_length:
            extra = f" ({2 * self.min_length} hex digits)" if unit == "bytes" and self.min_length else ""
            return f", exactly {self.min_length} {unit}{extra}"
        if self.min_length is not None and self.max_length is not None:
            return f", {self.min_length} to {self.max_length} {unit}"
        if self.max_length is not None:
            return f", at most {self.max_length} {unit}"
        return f", at least {self.min_length} {unit}"


def type_facts(simple_type: Any) -> TypeFacts:
    """Gather what ``simple_type`` (an xmlschema simple type) allows."""
    facts = TypeFacts()
    kind_found = False
    chain = simple_type
    while chain is not None:
        name = getattr(chain, "local_name", None)
        if name and not facts.name and not str(getattr(chain, "name", "") or "").startswith(XS):
            facts.name = name
        if name in KINDS and not kind_found:
            facts.kind, kind_found = KINDS[name], True
        _gather(facts, getattr(chain, "facets", None) or {})
        chain = getattr(chain, "base_type", None)
    return facts


def _gather(facts: TypeFacts, facets: dict[Any, Any]) -> None:
    for key, facet in facets.items():
        value = getattr(facet, "value", None)
        if key == f"{XS}minInclusive" and value is not None:
            facts.lowest = value if facts.lowest is None else max(facts.lowest, value)
        elif key == f"{XS}maxInclusive" and value is not None:
            facts.highest = value if facts.highest is None else min(facts.highest, value)
        elif key == f"{XS}minExclusive" and isinstance(value, int):
            facts.lowest = value + 1 if facts.lowest is None else max(facts.lowest, value + 1)
        elif key == f"{XS}maxExclusive" and isinstance(value, int):
            facts.highest = value - 1 if facts.highest is None else min(facts.highest, value - 1)
        elif key == f"{XS}length" and value is not None:
            facts.min_length = facts.max_length = value
        elif key == f"{XS}minLength" and value is not None and facts.min_length is None:
            facts.min_length = value
        elif key == f"{XS}maxLength" and value is not None and facts.max_length is None:
            facts.max_length = value
        elif key == f"{XS}enumeration" and not facts.values:
            facts.values = [str(v) for v in getattr(facet, "enumeration", [])]
        elif key == f"{XS}pattern" and not facts.patterns:
            facts.patterns = [str(p) for p in getattr(facet, "regexps", [])]


def plain_reason(error: Any, schema: Any) -> str:
    """One rejection in plain words; ``schema`` is the xmlschema schema the error came from."""
    element = _last_step(getattr(error, "path", None) or "") or "the document"
    if hasattr(error, "invalid_tag") and getattr(error, "particle", None) is not None:
        return _children(error, element)
    value = _value_of(getattr(error, "obj", None))
    if value is None:  # a value xmlschema already decoded (hexBinary, dates): the text as written
        value = _value_of(getattr(error, "elem", None))
    simple = _simple_type(error, schema)
    if simple is None or value is None:
        reason = str(error.reason or error.message)
        if "can't have child elements" in reason:
            return f"{element} holds an element where the schema allows only a value"
        return readable(reason)
    facts = type_facts(simple)
    facts.name = facts.name or element
    what = _what_is_wrong(error, facts, value.strip(" \t\r\n"))
    shown = f"'{shorten(value)}'"  # as written, not stripped: ' Add' is not 'Add'
    # A value of the wrong kind reads best as such; one of the right kind is described by what was found.
    said = f"{element}: {shown} is {what}" if what == f"not {facts.kind}" else f"{element}: found {shown}, {what}"
    allowed = facts.allowed()
    if what == f"not {allowed}":  # the kind is all the schema asks: said once
        return said
    return f"{said}; the schema allows {allowed}"


def _what_is_wrong(error: Any, facts: TypeFacts, value: str) -> str:
    validator = type(getattr(error, "validator", None)).__name__
    if "Enumeration" in validator:
        return "not one of the values the schema lists"
    if "Pattern" in validator:
        return "not of the form the schema requires"
    if "Length" in validator:
        if facts.kind == KINDS["hexBinary"]:
            return f"{len(value) // 2} bytes long"
        return f"{len(value)} characters long"
    number = _number(value)
    if number is not None and (facts.lowest is not None or facts.highest is not None):
        if facts.lowest is not None and number < facts.lowest:
            return "below the smallest value"
        if facts.highest is not None and number > facts.highest:
            return "above the largest value"
    return f"not {facts.kind}"


def _children(error: Any, element: str) -> str:
    """A child element missing, unexpected or out of place."""
    prefixes = _prefixes(getattr(error, "invalid_child", None), getattr(error, "obj", None))
    expected = [_qname(str(getattr(e, "name", "") or ""), prefixes) for e in _next_allowed(error)]
    expected = [e for e in expected if e]
    later = [_qname(str(getattr(e, "name", "") or ""), prefixes) for e in getattr(error, "expected", None) or []]
    tag = getattr(error, "invalid_tag", None)
    if tag is None:
        if expected:
            return f"{element} is incomplete: {' or '.join(expected[:4])} is missing"
        return f"{element} is incomplete"
    found = _qname(str(tag), prefixes)
    if found in later and found not in expected and expected:
        return f"{element}: {' or '.join(expected[:4])} is missing before {found}"
    if expected:
        return f"{element}: found {found} where the schema expects {' or '.join(expected[:4])}"
    return f"{element}: found {found} where the schema expects nothing more"


def _next_allowed(error: Any) -> list[Any]:
    """The elements that may come next: in a sequence, up to the first required one (xmlschema lists them all)."""
    expected = list(getattr(error, "expected", None) or [])
    if getattr(getattr(error, "particle", None), "model", None) != "sequence":
        return expected
    allowed = []
    for element in expected:
        allowed.append(element)
        if getattr(element, "min_occurs", 0):
            break
    return allowed


def _simple_type(error: Any, schema: Any) -> Any:
    """The simple type the value was checked against: the element's declared type, else the validator's."""
    declared = _declared(error, schema)
    if declared is not None:
        return declared
    validator = getattr(error, "validator", None)
    for candidate in (validator, getattr(validator, "parent", None)):
        if candidate is not None and callable(getattr(candidate, "is_simple", None)) and candidate.is_simple():
            return candidate
    return None


def _declared(error: Any, schema: Any) -> Any:
    """The declared simple type of the element at the error's path, if the schema finds one."""
    path = getattr(error, "path", None)
    if not path or "@" in path:
        return None
    try:
        declaration = schema.find(path, namespaces=NSMAP)
    except Exception:  # a path xmlschema cannot follow (xsi:type, wildcards): describe less
        return None
    declared = getattr(declaration, "type", None)
    if declared is not None and declared.is_simple():
        return declared
    if declared is not None and getattr(declared, "content", None) is not None and declared.has_simple_content():
        return declared.content
    return None


def _value_of(obj: Any) -> str | None:
    """The value an error is about: a string, a number, or the text of an element with no children."""
    if isinstance(obj, str):
        return obj
    if isinstance(obj, int | float) and not isinstance(obj, bool):
        return str(obj)
    if isinstance(obj, etree._Element) and not len(obj):  # with children, .text is only the first piece
        return obj.text
    return None


def _number(text: str) -> float | int | None:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return None


def _last_step(path: str) -> str:
    """The last step of an element path (``/sr:Request/sr:Header`` -> ``sr:Header``), cut to a readable length."""
    return shorten(path.rstrip("/").rsplit("/", 1)[-1])


def _prefixes(*elements: Any) -> dict[str, str]:
    """Namespace URI -> prefix: DUIS's own, then those the document declares where the error is."""
    found = {uri: prefix for prefix, uri in NSMAP.items()}
    for element in elements:
        if isinstance(element, etree._Element):
            for prefix, uri in element.nsmap.items():
                if prefix and uri not in found:
                    found[uri] = prefix
    return found


def _qname(name: str, prefixes: dict[str, str]) -> str:
    """``{uri}local`` as ``prefix:local`` (a namespace with no prefix stays in braces: often the very mistake)."""
    if name.startswith("{") and "}" in name:
        uri, local = name[1:].split("}", 1)
        return shorten(f"{prefixes[uri]}:{local}" if uri in prefixes else name)
    return shorten(name)
