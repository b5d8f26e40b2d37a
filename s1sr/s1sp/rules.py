"""The S1SR rules the reference S1SP applies, taken from one version's catalogue and one DMC."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from s1sr.catalogue import DMC, AnnexCDefault, Catalogue
from s1sr.s1sp.outcomes import REPORTED

#: What the S1SP does where the catalogue of a version says nothing (e.g. S1SR 4.2 has no 18.62).
#: These are the same behaviours the 4.3 readings document; in 4.2 they are simply undocumented.
BUILT_IN = {
    "join_rounding": "ceiling",
    "firmware_conflict_scope": "device",
}

#: Values the S1SP uses for command fields DUIS does not carry when the version has no Annex C entry.
BUILT_IN_DEFAULTS: dict[tuple[str, str], Any] = {
    ("SetPaymentMode", "debt_recovery_per_payment_percent"): 0,
    ("SetPrepayConfiguration", "emergency_credit_auto_activation"): False,
    ("AddToJoinWhitelist", "join_method"): "install-code",
    ("TransferFirmware", "activation"): "await-11.3",
}


@dataclass(frozen=True)
class S1SPRules:
    """Rule parameters for one S1SR version and one DMC."""

    s1sr_version: str
    join_rounding: str
    firmware_conflict_scope: str
    max_power_threshold_w: int | None
    annex_c: tuple[AnnexCDefault, ...]
    #: The outcome code of each outcome class the S1SP reports (catalogue ``outcomes.toml``).
    outcome_codes: dict[str, int]

    @classmethod
    def from_catalogue(cls, catalogue: Catalogue, dmc: DMC) -> S1SPRules:
        """Read the parameters the S1SP needs; built-in behaviour where the version is silent."""
        maxima = catalogue.parameter("max_power_threshold_w", {}) or {}
        return cls(
            s1sr_version=catalogue.version,
            join_rounding=catalogue.parameter("join_rounding", BUILT_IN["join_rounding"]),
            firmware_conflict_scope=catalogue.parameter("firmware_conflict_scope", BUILT_IN["firmware_conflict_scope"]),
            max_power_threshold_w=maxima.get(dmc.meter.id),
            annex_c=catalogue.annex_c,
            outcome_codes={name: catalogue.outcome(name).code for name in REPORTED},
        )

    def code(self, outcome_class: str) -> int:
        """The outcome code that carries ``outcome_class``."""
        return self.outcome_codes[outcome_class]

    def default(self, srv: str, command: str, field: str) -> tuple[Any, str]:
        """The value for a command field DUIS does not carry, and where it comes from."""
        for entry in self.annex_c:
            if (entry.srv, entry.command, entry.field) == (srv, command, field):
                return entry.value, f"Annex C, S1SR {self.s1sr_version} ({entry.provenance})"
        return BUILT_IN_DEFAULTS[
            (command, field)
        ], f"S1SP built-in default (no Annex C entry in S1SR {self.s1sr_version})"
