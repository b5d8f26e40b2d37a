"""Errors that users read: one line saying what was wrong, where, and what to do."""

from __future__ import annotations


class S1srError(Exception):
    """Base class of every error the harness reports to a user.

    ``exit_code`` is what the command line exits with: 2 for bad input or
    configuration (the user can fix it), 1 for a run that could not complete.
    """

    exit_code = 2

    def __init__(self, what: str, where: str = "", fix: str = "") -> None:
        self.what = what
        self.where = where
        self.fix = fix
        super().__init__(self.line())

    def line(self) -> str:
        """The one-line message: ``where: what; fix``."""
        head = f"{self.where}: {self.what}" if self.where else self.what
        return f"{head}; {self.fix}" if self.fix else head


class InputError(S1srError):
    """A document or file given to the harness is unreadable, unsafe or not what it claims to be."""


class ConfigError(S1srError):
    """The harness is configured wrongly (unknown version, device model, missing schema...)."""


class UnsupportedRequest(S1srError):
    """A well-formed Service Request for a Service Reference Variant the S1SP does not handle."""
