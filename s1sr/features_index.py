"""What the feature files say about clauses: which scenarios exercise each one.

Read with pytest-bdd's own Gherkin parser, so counts match what a run collects.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from s1sr.errors import InputError


def scenario_counts(folders: list[Path]) -> Counter[str]:
    """Scenario examples per clause id (an outline counts one per Examples row)."""
    from pytest_bdd.exceptions import GherkinParseError
    from pytest_bdd.feature import get_features

    counts: Counter[str] = Counter()
    try:
        features = get_features([str(f) for f in folders])
    except GherkinParseError as exc:
        raise InputError(f"feature file does not parse: {exc}", ", ".join(map(str, folders))) from None
    for feature in features:
        for scenario in feature.scenarios.values():
            tags = set(scenario.tags) | set(feature.tags)
            rows = sum(len(examples.examples) for examples in scenario.examples) or 1
            for tag in tags:
                if tag.startswith("clause-"):
                    counts[tag.removeprefix("clause-")] += rows
    return counts
