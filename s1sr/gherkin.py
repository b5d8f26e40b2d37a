"""How feature files write values, and how steps report a value that is not what the clause says."""

from typing import Any


def as_text(value: Any) -> str:
    """A value as a feature file writes it: booleans lower-case, everything else as ``str``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Mismatch(AssertionError):
    """A value read back differs from the literal in the feature: a non-conformance, with both sides kept."""

    def __init__(self, what: str, expected: str, actual: str) -> None:
        self.what = what
        self.expected = expected
        self.actual = actual
        super().__init__(f"{what}: expected {expected}, got {actual}")


def expect(what: str, expected: str, actual: Any) -> None:
    """Raise :class:`Mismatch` unless ``actual`` reads as ``expected``."""
    text = as_text(actual)
    if text != expected:
        raise Mismatch(what, expected, text)
