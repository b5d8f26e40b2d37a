"""``s1sr validate``: DUIS documents against the DUIS schema, and their signatures, with reasons in plain words.

Given certificates (``--cert``), every signature a document carries is checked as a run checks
it (:mod:`s1sr.duis.signing`): the S1SP's on each ``sr:SMETS1SignedResponse``, and the
enveloped one over the whole message. A request must carry its User's signature and a
SMETS1 Response the S1SP's; a DUIS Response's own envelope signature is checked when present
(``s1sr translate --out`` writes none). A document is valid when it is schema-valid and, with
certificates, every signature it must carry verifies with one of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree

from s1sr.duis.namespaces import NSMAP, sr
from s1sr.duis.safe_xml import parse_xml, read_document, shorten
from s1sr.duis.schema import ENV_XSD, find_schema, load_schema
from s1sr.duis_http.envelope import verify_envelope
from s1sr.errors import ConfigError, InputError

_SIGNATURE = "{http://www.w3.org/2000/09/xmldsig#}Signature"


@dataclass(frozen=True)
class SignatureVerdict:
    """One signature of a document: whose (``SMETS1 Response``, ``Request``...), and whether it verifies."""

    signed: str
    valid: bool
    reason: str


@dataclass
class FileVerdict:
    """One file: valid or not, and why not."""

    path: str
    valid: bool
    problems: list[str] = field(default_factory=list)
    signatures: list[SignatureVerdict] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "path": self.path,
            "valid": self.valid,
            "problems": list(self.problems),
            "signatures": [s.__dict__ for s in self.signatures],
        }


@dataclass
class ValidationReport:
    """All files of one ``validate`` call."""

    xsd: str
    certificates: int = 0
    items: list[FileVerdict] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    @property
    def valid_count(self) -> int:
        """Files that are valid."""
        return sum(1 for i in self.items if i.valid)

    @property
    def invalid_count(self) -> int:
        """Files that were read but are not valid."""
        return sum(1 for i in self.items if not i.valid)

    def summary(self) -> str:
        """``3 valid, 21 invalid, 13 unreadable``: every file given is in one of the three."""
        signatures = (
            f"; signatures checked with {self.certificates} certificate(s)"
            if self.certificates
            else "; signatures not checked: --cert FILE checks them"
        )
        return (
            f"{self.valid_count} valid, {self.invalid_count} invalid, {len(self.unreadable)} unreadable "
            f"(schema: {self.xsd}{signatures})"
        )

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` document."""
        return {
            "xsd": self.xsd,
            "certificates": self.certificates,
            "valid": self.valid_count,
            "invalid": self.invalid_count,
            "unreadable": self.unreadable,
            "files": [i.as_dict() for i in self.items],
        }


def validate_files(paths: list[Path], xsd: str | None, certificates: Sequence[bytes] = ()) -> ValidationReport:
    """Validate each file; unreadable or unsafe files are reported, not raised, so the others still run.

    ``certificates`` (PEM or DER): when given, signatures are checked too.
    """
    setting = find_schema(xsd)
    if setting.path is None:
        raise ConfigError(
            "no DUIS schema configured",
            "validate",
            f"pass --xsd PATH or set {ENV_XSD} to your copy of the DUIS schema",
        )
    schema = load_schema(setting.path)
    report = ValidationReport(str(setting.path), len(certificates))
    for path in paths:
        try:
            root = parse_xml(read_document(path), str(path))
        except InputError as exc:
            report.unreadable.append(exc.line())
            continue
        problems = [str(p) for p in schema.problems(root)]
        signatures = check_signatures(root, certificates) if certificates else []
        valid = not problems and all(s.valid for s in signatures)
        report.items.append(FileVerdict(str(path), valid, problems, signatures))
    return report


def check_signatures(root: etree._Element, certificates: Sequence[bytes]) -> list[SignatureVerdict]:
    """Every signature ``root`` must carry or does carry, each verified with any of ``certificates``."""
    found: list[SignatureVerdict] = []
    for signed in root.iterfind(".//sr:SMETS1SignedResponse", NSMAP):
        found.append(_verdict("SMETS1 Response", signed, certificates))
    name = shorten(etree.QName(root).localname)
    enveloped = any(child.tag == _SIGNATURE for child in root)
    if enveloped or root.tag == sr("Request") or not found:
        found.append(_verdict(f"{name} (the whole message)", root, certificates))
    return found


def _verdict(signed: str, element: etree._Element, certificates: Sequence[bytes]) -> SignatureVerdict:
    """Valid with any of the certificates; an alteration is reported whatever the key."""
    check = verify_envelope(element, certificates)
    return SignatureVerdict(signed, check.valid, check.reason)
