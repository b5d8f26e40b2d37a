"""Where a device command field's value came from, decided by the harness, never by the S1SP under test.

Clause 23: where a Secure command needs a value the DUIS request does not carry, the S1SP
appends the Annex C default. An S1SP may label the fields it filled (``DeviceCommand.defaults``),
but a label is the system under test speaking of itself: it may be shown in evidence, and no
verdict passes on it. The harness decides from what it holds itself:

- **the request**: the DUIS request the User sent carries the field (an element of its body,
  which the step that judges it names and finds in the request the User sent), and Annex C
  has no entry for it;
- **Annex C**: the version's catalogue has an Annex C entry for the SRV, command and field (an
  entry is, by definition, a value that SRV's DUIS body does not carry), and the command holds
  exactly the entry's value.

The one use a verdict makes of a label is to refuse a false one: an S1SP that marks a field as
filled by itself (a key of ``defaults``) when the request carried it is caught. A field it does
not mark is no claim at all (most S1SPs mark nothing), and the wording of a label is never read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from s1sr.catalogue import AnnexCDefault, Catalogue
from s1sr.gherkin import as_text

#: The harness's verdicts on a field's value.
FROM_ANNEX_C = "Annex C"
FROM_REQUEST = "the request"
NOT_ANNEX_C_VALUE = "not the Annex C value"


@dataclass(frozen=True)
class FieldSource:
    """Where one command field's value came from, as the harness decides it, beside the S1SP's own label."""

    field: str
    value: Any
    #: :data:`FROM_ANNEX_C`, :data:`FROM_REQUEST` or :data:`NOT_ANNEX_C_VALUE`.
    verdict: str
    #: The catalogue's Annex C entry for the field, when it has one.
    annex_c: AnnexCDefault | None
    #: The version of the catalogue that was read.
    s1sr_version: str
    #: What the S1SP under test says of the field (``defaults``), or None when it says nothing.
    label: str | None

    def describe(self) -> str:
        """The source as evidence shows it: ``Annex C, S1SR 4.3 (interpretation)``, ``the request``..."""
        if self.verdict == FROM_ANNEX_C and self.annex_c is not None:
            return f"Annex C, S1SR {self.s1sr_version} ({self.annex_c.provenance})"
        if self.verdict == NOT_ANNEX_C_VALUE and self.annex_c is not None:
            return f"not the Annex C value {as_text(self.annex_c.value)} of S1SR {self.s1sr_version}"
        return self.verdict


def field_source(
    catalogue: Catalogue, srv: str, command: str, field: str, value: Any, label: str | None
) -> FieldSource:
    """Where the value of ``command.field``, sent for a request of ``srv``, came from by the catalogue.

    A field Annex C gives for this SRV and command is from Annex C when it holds the entry's value
    (a DUIS body never carries an Annex C field: that is what Annex C is for); any other field's
    value can only have come from the request.
    """
    entry = catalogue.annex_c_entry(srv, command, field)
    if entry is None:
        verdict = FROM_REQUEST
    elif as_text(value) == as_text(entry.value):
        verdict = FROM_ANNEX_C
    else:
        verdict = NOT_ANNEX_C_VALUE
    return FieldSource(field, value, verdict, entry, catalogue.version, label)


def command_sources(
    catalogue: Catalogue, srv: str, name: str, fields: dict[str, Any], defaults: dict[str, str]
) -> list[FieldSource]:
    """Every field of one device command with the harness's verdict on its source, for evidence."""
    return [field_source(catalogue, srv, name, f, v, defaults.get(f)) for f, v in fields.items()]
