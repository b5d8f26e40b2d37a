"""``s1sr diff`` calls a clause changed for what it applies to and how it is judged, never for rewording."""

from __future__ import annotations

from s1sr.catalogue import load_catalogue
from s1sr.diff import _clause_changes


def test_a_moved_clause_whose_only_change_is_its_prose_is_unchanged() -> None:
    old, new = load_catalogue("4.2").clause("18.64"), load_catalogue("4.3").clause("18.65")
    assert old is not None and new is not None
    assert old.reading != new.reading and old.title != new.title  # reworded...
    assert _clause_changes(old, new) == {}  # ...and nothing that judges it changed


def test_a_change_of_parameters_or_device_models_is_a_change() -> None:
    old = load_catalogue("4.2").clause("18.63")
    new = load_catalogue("4.3").clause("18.63")
    assert old is not None and new is not None
    assert _clause_changes(old, new)["parameters"] == {
        "a": {"firmware_conflict_scope": "request"},
        "b": {"firmware_conflict_scope": "device"},
    }
