"""pytest-bdd's step lookup, remembered: a step's text is matched against every step definition once.

For every step of every scenario example, pytest-bdd (8 and 9) goes through every fixture name the
session knows, asks pytest which definitions the item sees, and tries each step definition's parser on
the step's text: about sixty fixture lookups and as many pattern matches per step, a third of a default
run's time. Its answer depends only on the step (its type and text) and on which definitions the item
sees, and items of one collector (a test module, or a class in it) see the same ones. So the answer is
kept per fixture manager (one per pytest session), per collector, per step type and text.

Step definitions are fixtures registered while collecting; nothing registers one after the first
scenario ran, so a kept answer stays right for the session. Where pytest-bdd's function is not there
(another major version), nothing is changed: the lookup is then as slow as before, never different.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any

#: The attribute of a fixture manager that holds its steps' answers.
_CACHE = "_s1sr_step_definitions"
_MARK = "_s1sr_remembered"


def remember_step_lookups() -> bool:
    """Wrap pytest-bdd's ``find_fixturedefs_for_step`` once per process; whether it is wrapped now."""
    try:  # the module: the package itself exports a function of the same name
        bdd_scenario = importlib.import_module("pytest_bdd.scenario")
    except ImportError:
        return False
    original: Callable[..., Iterable[Any]] | None = getattr(bdd_scenario, "find_fixturedefs_for_step", None)
    if original is None:
        return False
    if getattr(original, _MARK, False):
        return True

    def find_fixturedefs_for_step(step: Any, fixturemanager: Any, node: Any) -> Iterator[Any]:
        cache: dict[tuple[str, Any, str], tuple[Any, ...]] = fixturemanager.__dict__.setdefault(_CACHE, {})
        parent = getattr(node, "parent", None)
        key = (parent.nodeid if parent is not None else node.nodeid, step.type, step.name)
        found = cache.get(key)
        if found is None:
            found = cache[key] = tuple(original(step=step, fixturemanager=fixturemanager, node=node))
        return iter(found)

    setattr(find_fixturedefs_for_step, _MARK, True)
    setattr(bdd_scenario, "find_fixturedefs_for_step", find_fixturedefs_for_step)  # noqa: B010  # a module of theirs
    return True
