"""Which scenarios run: tags to marks, one example per DMC, ``--clause``, ``--shard``, the record, applicability."""

from __future__ import annotations

import re
from typing import Any

import pytest

from s1sr.catalogue import find_dmc
from s1sr.plugin.journaling import journal_selection
from s1sr.plugin.keys import NOT_APPLICABLE, RESULT_KEY
from s1sr.plugin.settings import SETTINGS_KEY, RunSettings, settings_of
from s1sr.report.results import ScenarioResult

TAG_MARKS = {"clause-": "clause", "srv-": "srv", "s1sr-": "s1sr_version", "mp-": "modification"}


FUEL_MARKS = {"fuel-electricity": "electricity", "fuel-gas": "gas"}


@pytest.hookimpl(tryfirst=True)
def pytest_bdd_apply_tag(tag: str, function: Any) -> Any:
    """Turn clause, SRV and version tags into parametrised marks."""
    for prefix, mark in TAG_MARKS.items():
        if tag.startswith(prefix):
            getattr(pytest.mark, mark)(tag.removeprefix(prefix))(function)
            return True
    if tag in FUEL_MARKS:
        getattr(pytest.mark, tag)(function)
        return True
    return None


def is_scenario(function: Any) -> bool:
    """Whether ``function`` is a pytest-bdd scenario (not one of the project's own tests)."""
    from pytest_bdd.scenario import scenario_wrapper_template_registry

    return function in scenario_wrapper_template_registry


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every scenario once per selected DMC."""
    if is_scenario(metafunc.function):
        settings = settings_of(metafunc.config)
        metafunc.fixturenames.append("s1sr_dmc")
        metafunc.parametrize("s1sr_dmc", settings.dmcs, ids=settings.dmcs)


def describe(item: pytest.Item) -> ScenarioResult:
    """A ``not run`` record of the scenario example ``item``: its id, name, feature, clauses, SRVs, DMC."""
    from pytest_bdd.scenario import scenario_wrapper_template_registry

    template = scenario_wrapper_template_registry.get(getattr(item, "obj", None))  # type: ignore[arg-type]
    params = getattr(item, "callspec", None)
    example: dict[str, str] = dict(params.params.get("_pytest_bdd_example", {})) if params else {}
    dmc = params.params.get("s1sr_dmc", "") if params else ""
    if template is not None:
        name = template.render(example).name
        feature = template.feature.name
        feature_file = template.feature.rel_filename
        where = f"{feature_file}:{template.line_number}{_example_position(template, example)}"
    else:
        name, feature, feature_file = item.name, "", str(item.path)
        where = item.nodeid
    return ScenarioResult(
        name=name,
        feature=feature,
        feature_file=feature_file,
        clauses=sorted({m.args[0] for m in item.iter_markers("clause")}),
        srvs=sorted({m.args[0] for m in item.iter_markers("srv")}),
        dmc=dmc,
        nodeid=item.nodeid,
        id=f"{where}[{dmc}]",
        example=example,
    )


def _example_position(template: Any, example: dict[str, str]) -> str:
    """``:LINE#ROW`` of an outline's example row (its Examples block's line, the row from 1), else empty."""
    if not example:
        return ""
    for block in template.examples:
        for row, values in enumerate(block.as_contexts(), start=1):
            if values == example:
                return f":{block.line_number}#{row}"
    return ""


def unique_names(results: list[ScenarioResult]) -> None:
    """Give outline rows whose rendered names coincide (within a DMC) their example values, so every name is unique.

    A name that is still shared after that (two identical rows) gets its row position.
    """
    for attempt in ("values", "position"):
        seen: dict[tuple[str, str], list[ScenarioResult]] = {}
        for result in results:
            seen.setdefault((result.dmc, result.name), []).append(result)
        for group in seen.values():
            if len(group) < 2:
                continue
            for result in group:
                if attempt == "values" and result.example:
                    values = ", ".join(f"{k} = {v}" for k, v in result.example.items())
                    result.name = f"{result.name} ({values})"
                elif attempt == "position":
                    result.name = f"{result.name} ({result.id.rpartition('[')[0]})"


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the selected clauses' scenarios, then this shard's part of them; the others are deselected, like ``-k``.

    Last, after ``-k``, ``-m`` and ``--deselect``: each scenario gets its record (id, unique name, position)
    from the whole selection before the shard is cut, so that shards merged give the names and order of one run.
    """
    wanted = set(config.getoption("--s1sr-clause"))
    if wanted:
        keep = [i for i in items if wanted & {m.args[0] for m in i.iter_markers("clause")}]
        dropped = [i for i in items if i not in keep]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = keep
    settings = config.stash.get(SETTINGS_KEY, None)
    if settings is None:
        return
    scenarios = [i for i in items if is_scenario(getattr(i, "obj", None))]
    results = [describe(i) for i in scenarios]
    unique_names(results)
    for position, (item, result) in enumerate(zip(scenarios, results, strict=True)):
        result.position = position
        item.stash[RESULT_KEY] = result
    if settings.shard is not None:
        outside = {id(item) for item in shard_out(scenarios, results, settings.shard, settings.dmcs)}
        if outside:
            config.hook.pytest_deselected(items=[i for i in items if id(i) in outside])
            items[:] = [i for i in items if id(i) not in outside]


def shard_out(
    items: list[pytest.Item], results: list[ScenarioResult], shard: tuple[int, int], dmcs: list[str]
) -> list[pytest.Item]:
    """The scenario items outside part K of N.

    The scenarios are put in an order that every machine agrees on, by DMC (in the run's order), feature
    file, then position in the file (scenario line, Examples line, row), and cut into N runs of
    consecutive scenarios whose lengths differ by at most one; part K is the K-th.
    """
    part, parts = shard
    order = sorted(range(len(items)), key=lambda index: shard_key(results[index], dmcs))
    start, stop = (part - 1) * len(order) // parts, part * len(order) // parts
    inside = set(order[start:stop])
    return [item for index, item in enumerate(items) if index not in inside]


def shard_key(result: ScenarioResult, dmcs: list[str]) -> tuple[int, str, tuple[int, ...], str]:
    """Where a scenario example falls in the shards' order: DMC, feature file, place in the file, id."""
    where = result.id.removeprefix(result.feature_file).rpartition("[")[0]
    numbers = tuple(int(n) for n in re.findall(r"\d+", where))
    dmc = dmcs.index(result.dmc) if result.dmc in dmcs else len(dmcs)
    return dmc, result.feature_file, numbers, result.id


def pytest_collection_finish(session: pytest.Session) -> None:
    """Record each selected scenario as ``not run`` until it reports, and journal the selection.

    This runs after every ``pytest_collection_modifyitems``, so what ``-k``, ``-m``,
    ``--deselect``, ``--clause`` or ``--shard`` left out is absent from the record, not "not run".
    """
    settings = session.config.stash.get(SETTINGS_KEY, None)
    if settings is None:
        return
    selected: list[ScenarioResult] = []
    late: list[ScenarioResult] = []
    for item in session.items:
        if is_scenario(getattr(item, "obj", None)):
            result = item.stash.get(RESULT_KEY, None)
            if result is None:  # added after the s1sr hook by another plugin's
                result = describe(item)
                result.position = len(session.items) + len(late)
                item.stash[RESULT_KEY] = result
                late.append(result)
            selected.append(result)
    unique_names(late)
    settings.record.scenarios.extend(selected)
    journal_selection(session.config, selected)


def applicability(settings: RunSettings, item: pytest.Item, dmc_name: str) -> str | None:
    """Why the scenario does not apply to this version and DMC, or None when it does."""
    dmc = find_dmc(dmc_name)
    catalogue = settings.catalogue
    for mark in item.iter_markers("s1sr_version"):
        if mark.args[0] != catalogue.version:
            return f"describes S1SR {mark.args[0]} behaviour; this run is S1SR {catalogue.spec}"
    for mark in item.iter_markers("modification"):
        pack = "MP" + str(mark.args[0]).upper()
        if not catalogue.in_force(pack):
            return f"describes {pack}, which is not in force in this run (add --modification {pack})"
    for tag, fuel in FUEL_MARKS.items():
        if item.get_closest_marker(tag) is not None and dmc.meter.fuel != fuel:
            return f"example for {fuel} meters; {dmc.meter.id} is {dmc.meter.fuel}"
    for mark in item.iter_markers("clause"):
        clause = settings.catalogue.clause(mark.args[0])
        if clause is None:
            return f"clause {mark.args[0]} is not in S1SR {catalogue.spec}"
        if not clause.applies_to(dmc.meter.id):
            return f"Annex A does not map clause {clause.id} to device model {dmc.meter.id}"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip, as ``not applicable``, what the catalogue does not map to this version and DMC."""
    params = getattr(item, "callspec", None)
    if params is None or "s1sr_dmc" not in params.params:
        return
    reason = applicability(settings_of(item.config), item, params.params["s1sr_dmc"])
    if reason is not None:
        pytest.skip(NOT_APPLICABLE + reason)
