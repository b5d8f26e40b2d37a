"""``s1sr validate``: DUIS documents against the DUIS schema, with reasons in plain words."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s1sr.duis.safe_xml import parse_xml, read_document
from s1sr.duis.schema import ENV_XSD, find_schema, load_schema
from s1sr.errors import ConfigError, InputError


@dataclass
class FileVerdict:
    """One file: valid or not, and why not."""

    path: str
    valid: bool
    problems: list[str] = field(default_factory=list)


@dataclass
class ValidationReport:
    """All files of one ``validate`` call."""

    xsd: str
    items: list[FileVerdict] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    @property
    def valid_count(self) -> int:
        """Files that are valid."""
        return sum(1 for i in self.items if i.valid)

    @property
    def invalid_count(self) -> int:
        """Files that parsed but are not valid."""
        return sum(1 for i in self.items if not i.valid)

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` document."""
        return {
            "xsd": self.xsd,
            "valid": self.valid_count,
            "invalid": self.invalid_count,
            "unreadable": self.unreadable,
            "files": [i.__dict__ for i in self.items],
        }


def validate_files(paths: list[Path], xsd: str | None) -> ValidationReport:
    """Validate each file; unreadable or unsafe files are reported, not raised, so the others still run."""
    setting = find_schema(xsd)
    if setting.path is None:
        raise ConfigError(
            "no DUIS schema configured",
            "validate",
            f"pass --xsd PATH or set {ENV_XSD} to your copy of the DUIS schema",
        )
    schema = load_schema(setting.path)
    report = ValidationReport(str(setting.path))
    for path in paths:
        try:
            root = parse_xml(read_document(path), str(path))
        except InputError as exc:
            report.unreadable.append(exc.line())
            continue
        problems = schema.problems(root)
        report.items.append(FileVerdict(str(path), not problems, [str(p) for p in problems]))
    return report
