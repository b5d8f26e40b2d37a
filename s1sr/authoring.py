"""Feature files checked as an author writes them, before any scenario runs (``s1sr check``).

A feature is the clause as a DCC engineer reads it, so a mistake in one must be
found where it was made, not as a scenario that quietly counts toward a verdict:

- a clause tag that no S1SR version's catalogue knows (``@clause-18.99``);
- an SRV tag for a Service Reference Variant the harness cannot send (``@srv-9.9``);
- a version tag for an S1SR version with no catalogue (``@s1sr-9.9``);
- a modification tag for a pack the catalogue does not hold (``@mp-999``);
- a scenario with no clause tag (it would be judged against no clause);
- a step that no step definition matches, with the nearest defined step of its kind.

Each problem is one line, ``file:line: what; fix``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from s1sr.catalogue import clause_key, every_clause_id, versions
from s1sr.catalogue.modifications import known_modifications
from s1sr.duis.request import SRV_BODIES
from s1sr.errors import InputError
from s1sr.features_index import check_features


@dataclass(frozen=True)
class AuthoringProblem:
    """One mistake in a feature file: where, what, and what to do."""

    file: str
    line: int
    what: str
    fix: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.what}" + (f"; {self.fix}" if self.fix else "")


def known_clauses() -> list[str]:
    """Every clause id that some S1SR version's catalogue holds or some modification pack adds."""
    return sorted(every_clause_id(), key=clause_key)


def check_authoring(folders: list[Path]) -> list[AuthoringProblem]:
    """Every authoring problem in the feature files of ``folders`` (empty when there is none).

    A file that does not parse at all is raised as :class:`~s1sr.errors.InputError` by
    :func:`~s1sr.features_index.check_features`, as a run does.
    """
    clauses, srvs, known_versions = set(known_clauses()), set(SRV_BODIES), set(versions())
    packs = {p.tag.removeprefix("mp-") for p in known_modifications().values()}
    steps = {kind: [parser for parser, _ in defs] for kind, defs in step_definitions().items()}
    problems: list[AuthoringProblem] = []
    for feature in check_features(folders):
        path = str(feature.filename)
        for scenario in feature.scenarios.values():
            tags = set(scenario.tags) | set(feature.tags)
            line = scenario.line_number
            problems += _tag_problems(path, line, tags, clauses, srvs, known_versions, packs)
            if not any(t.startswith("clause-") for t in tags):
                problems.append(
                    AuthoringProblem(
                        path, line, f"scenario '{scenario.name}' has no clause tag", "tag it @clause-ID with its clause"
                    )
                )
            problems += _step_problems(path, scenario, steps)
    return problems


def refuse_authoring_problems(folders: list[Path]) -> None:
    """Refuse, before anything runs, feature files with an authoring problem (the first, and how many more)."""
    problems = check_authoring(folders)
    if problems:
        first = problems[0]
        more = f" ({len(problems) - 1} more: run s1sr check)" if len(problems) > 1 else ""
        raise InputError(first.what + more, f"{first.file}:{first.line}", first.fix)


def _tag_problems(
    path: str,
    line: int,
    tags: Iterable[str],
    clauses: set[str],
    srvs: set[str],
    known_versions: set[str],
    packs: set[str],
) -> list[AuthoringProblem]:
    problems = []
    for tag in sorted(tags):
        for prefix, known, what in (
            ("clause-", clauses, "clause"),
            ("srv-", srvs, "SRV"),
            ("s1sr-", known_versions, "S1SR version"),
            ("mp-", packs, "modification"),
        ):
            value = tag.removeprefix(prefix)
            if tag.startswith(prefix) and value not in known:
                choices = ", ".join(sorted(known, key=clause_key))
                problems.append(AuthoringProblem(path, line, f"unknown {what} tag @{tag}", f"known: {choices}"))
    return problems


def _step_problems(path: str, scenario: Any, steps: dict[str, list[Any]]) -> list[AuthoringProblem]:
    problems: dict[int, AuthoringProblem] = {}
    # An outline's steps hold <placeholders>: each Examples row must match, so check them rendered.
    contexts = [ctx for block in scenario.examples for ctx in block.as_contexts()] or [{}]
    for context in contexts:
        for step in scenario.render(context).steps:
            if step.line_number in problems:
                continue
            candidates = steps.get(step.type, []) + steps.get("*", [])
            if any(parser.is_matching(step.name) for parser in candidates):
                continue
            near = difflib.get_close_matches(step.name, [p.name for p in candidates], n=1, cutoff=0.0)
            fix = f"the nearest defined {step.type} step is '{near[0]}'" if near else f"define a {step.type} step"
            problems[step.line_number] = AuthoringProblem(
                path, step.line_number, f"no step definition matches '{step.name}'", fix
            )
    return list(problems.values())


def step_definitions() -> dict[str, list[tuple[Any, Any]]]:
    """The shipped step definitions, (parser, step function), by step kind (given, when, then)."""
    from pytest_bdd.steps import step_function_context_registry

    from s1sr.bundle import steps_dir
    from s1sr.plugin.options import _step_modules

    modules = {m.__name__ for m in _step_modules(steps_dir())}
    found: dict[str, list[tuple[Any, Any]]] = {}
    for context in step_function_context_registry.values():
        if getattr(context.step_func, "__module__", "") in modules:
            found.setdefault(context.type or "*", []).append((context.parser, context.step_func))
    return found
