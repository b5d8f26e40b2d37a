"""A pytest plugin for tests: every User session sees only DUIS responses, as over ``--target duis``.

Load with ``s1sr run ... -- -p tests.blind_user``. The view set is taken away just before each
step runs (after its fixtures, so the session exists), leaving the S1SP in process: a run
that shows what a run on a target without device views records.
"""

from typing import Any


def pytest_bdd_before_step_call(
    request: Any, feature: Any, scenario: Any, step: Any, step_func: Any, step_func_args: dict[str, Any]
) -> None:
    """Blind the User's session before the step looks."""
    session = step_func_args.get("user")
    if session is not None:
        session.observes = frozenset()
