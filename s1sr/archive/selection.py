"""A pytest plugin for ``s1sr run --rerun``: keep only the scenario examples named by node id, deselect the rest.

Loaded with ``-p s1sr.archive.selection`` (so pytest-xdist workers load it too) and given the node ids
as ``--s1sr-rerun NODEID`` options. Unlike node ids given to pytest as arguments, an id that the
feature files no longer hold is not a usage error: it is left out, and the run says how many were.
It runs before s1sr's own selection hook, so the kept scenarios get their positions among themselves.
"""

from __future__ import annotations

import pytest

#: The option that names one scenario example to keep (repeated).
OPTION = "--s1sr-rerun"


def pytest_addoption(parser: pytest.Parser) -> None:
    """The node ids to keep."""
    parser.getgroup("s1sr").addoption(
        OPTION, action="append", default=[], metavar="NODEID", help="s1sr run --rerun: run only this scenario example"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the items whose node id was named; tell the run about names that matched nothing."""
    wanted = list(dict.fromkeys(config.getoption(OPTION) or []))
    if not wanted:
        return
    keep = set(wanted)
    dropped = [item for item in items if item.nodeid not in keep]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = [item for item in items if item.nodeid in keep]
    found = {item.nodeid for item in items}
    gone = [nodeid for nodeid in wanted if nodeid not in found]
    if gone and not hasattr(config, "workerinput"):  # the controller or the only process tells it, once
        from s1sr.plugin.settings import SETTINGS_KEY

        settings = config.stash.get(SETTINGS_KEY, None)
        if settings is not None:
            settings.warnings.append(
                f"{len(gone)} scenario(s) of the run re-run are no longer in the features (changed since?), "
                f"for example {gone[0]}"
            )
