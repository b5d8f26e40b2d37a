"""Which scenarios run: tags to marks, one example per DMC, ``--clause``, the record of the selection, applicability."""

from __future__ import annotations

from typing import Any

import pytest

from s1sr.catalogue import find_dmc
from s1sr.plugin.keys import NOT_APPLICABLE, RESULT_KEY
from s1sr.plugin.settings import SETTINGS_KEY, RunSettings, settings_of
from s1sr.report.results import ScenarioResult

TAG_MARKS = {"clause-": "clause", "srv-": "srv", "s1sr-": "s1sr_version"}


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


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the selected clauses' scenarios (the others are deselected, like ``-k``)."""
    wanted = set(config.getoption("--s1sr-clause"))
    if wanted:
        keep = [i for i in items if wanted & {m.args[0] for m in i.iter_markers("clause")}]
        dropped = [i for i in items if i not in keep]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_collection_finish(session: pytest.Session) -> None:
    """Record each selected scenario as ``not run`` until it reports.

    This runs after every ``pytest_collection_modifyitems``, so what ``-k``, ``-m``,
    ``--deselect`` or ``--clause`` left out is absent from the record, not "not run".
    """
    settings = session.config.stash.get(SETTINGS_KEY, None)
    if settings is None:
        return
    selected: list[ScenarioResult] = []
    for item in session.items:
        if is_scenario(getattr(item, "obj", None)):
            result = describe(item)
            item.stash[RESULT_KEY] = result
            selected.append(result)
    unique_names(selected)
    settings.record.scenarios.extend(selected)


def applicability(settings: RunSettings, item: pytest.Item, dmc_name: str) -> str | None:
    """Why the scenario does not apply to this version and DMC, or None when it does."""
    dmc = find_dmc(dmc_name)
    for mark in item.iter_markers("s1sr_version"):
        if mark.args[0] != settings.version:
            return f"describes S1SR {mark.args[0]} behaviour; this run is S1SR {settings.version}"
    for tag, fuel in FUEL_MARKS.items():
        if item.get_closest_marker(tag) is not None and dmc.meter.fuel != fuel:
            return f"example for {fuel} meters; {dmc.meter.id} is {dmc.meter.fuel}"
    for mark in item.iter_markers("clause"):
        clause = settings.catalogue.clause(mark.args[0])
        if clause is None:
            return f"clause {mark.args[0]} is not in S1SR {settings.version}"
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
