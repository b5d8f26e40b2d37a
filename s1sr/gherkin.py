"""How feature files write values, for steps that compare what a User reads with what a clause says."""

from typing import Any


def as_text(value: Any) -> str:
    """A value as a feature file writes it: booleans lower-case, everything else as ``str``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
