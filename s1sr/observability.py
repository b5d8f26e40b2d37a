"""What a target lets the harness see: every step is user-visible or device-side.

A DCC User sees DUIS responses and nothing else. In process, and on a lab rig, the harness
also sees what the devices received (the S1SP's device commands) and what they hold
(snapshots). A step that judges one of those is *device-side*; it declares which view it
needs with :func:`device_side`. On a target that does not give that view (the harness as a
User over DUIS) the step is recorded as **not observable** and the scenario goes on: a
scenario whose user-visible steps all pass is reported passed, with its unobserved steps
counted and shown, never hidden and never a failure.

:func:`scenario_views` reads the same declarations statically, so ``s1sr clauses`` can say
how many scenarios of each clause a User alone can fully judge.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol, TypeVar

#: The S1SP's commands as the devices received them (the recording adapter's log).
DEVICE_COMMANDS = "device-commands"
#: What the devices hold (the adapter's snapshot).
DEVICE_STATE = "device-state"
#: The S1SP's clock, which the harness moves to let time pass (a cache period): in process only.
S1SP_CLOCK = "s1sp-clock"
#: Every view: in process, the harness has them all.
EVERY_VIEW = frozenset({DEVICE_COMMANDS, DEVICE_STATE, S1SP_CLOCK})
#: What a step needs that judges the DUIS responses alone.
USER_VISIBLE = "user-visible"
#: The step status of a device-side step the target cannot observe.
NOT_OBSERVABLE = "not observable"
#: How the reason of a scenario begins that is not applicable because it failed on an answer its target may have
#: given from a cache filled before the scenario began (an S1SP behind DUIS: :mod:`s1sr.earlier_reads`).
PREDATED = "not judged on this target, which may answer from a cache filled before the scenario: "

F = TypeVar("F", bound=Callable[..., Any])


class Observer(Protocol):
    """What a step asks of the User's session: the views it has, and where to note a step it could not judge."""

    observes: frozenset[str]
    not_observed: list[str]


def device_side(view: str) -> Callable[[F], F]:
    """Declare a step device-side: it needs ``view`` (:data:`DEVICE_COMMANDS`, :data:`DEVICE_STATE` or
    :data:`S1SP_CLOCK`).

    The step must take the ``user`` fixture. Where the session lacks the view the step is
    not run: it is noted as not observable and the scenario goes on.
    """
    if view not in EVERY_VIEW:
        raise ValueError(f"unknown device view {view!r}")

    def decorate(func: F) -> F:
        @functools.wraps(func)
        def step(*args: Any, **kwargs: Any) -> Any:
            if not can_observe(kwargs["user"], view):
                return None
            return func(*args, **kwargs)

        step.s1sr_view = view  # type: ignore[attr-defined]
        return step  # type: ignore[return-value]

    return decorate


def can_observe(user: Observer, view: str) -> bool:
    """True when the session has ``view``; else note the step as not observable and return False.

    For a step whose one branch is device-side (SRV 4.13 carries no gas payment mode).
    """
    if view in user.observes:
        return True
    user.not_observed.append(view)
    return False


def view_of(step_func: Any) -> str:
    """The view a step definition needs: a device view, or :data:`USER_VISIBLE`."""
    return str(getattr(step_func, "s1sr_view", USER_VISIBLE))


def scenario_views(folders: Iterable[Path]) -> dict[str, list[frozenset[str]]]:
    """Per clause id, for each scenario example, the device views its steps need (empty: user-visible only).

    A step matched by no definition counts as user-visible (``s1sr check`` reports it).
    """
    from s1sr.authoring import step_definitions
    from s1sr.features_index import check_features

    definitions = step_definitions()
    found: dict[str, list[frozenset[str]]] = {}
    for feature in check_features(list(folders)):
        for scenario in feature.scenarios.values():
            tags = set(scenario.tags) | set(feature.tags)
            contexts = [ctx for block in scenario.examples for ctx in block.as_contexts()] or [{}]
            for context in contexts:
                views = set()
                for step in scenario.render(context).steps:
                    candidates = definitions.get(step.type, []) + definitions.get("*", [])
                    for parser, func in candidates:
                        if parser.is_matching(step.name):
                            views.add(view_of(func))
                            break
                views.discard(USER_VISIBLE)
                for tag in tags:
                    if tag.startswith("clause-"):
                        found.setdefault(tag.removeprefix("clause-"), []).append(frozenset(views))
    return found
