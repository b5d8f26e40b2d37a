"""The pytest plugin: options, shipped steps, DMC parametrisation, applicability and honest verdicts.

Registered under the ``pytest11`` entry point as ``s1sr.plugin`` (so an installed s1sr is in every pytest
run of its environment: ``pytest --pyargs s1sr.suite`` runs the clause suite), and named as
``s1sr.plugin`` by the repository's ``conftest.py`` and by ``s1sr run`` (``-p s1sr.plugin``): one name,
so pytest registers it once however it is found. ``-p no:s1sr.plugin`` leaves it out.
Scenario tags become marks: ``@clause-18.27`` -> ``clause("18.27")``, ``@srv-2.1`` ->
``srv("2.1")``, ``@s1sr-4.2`` -> ``s1sr_version("4.2")``; an Examples block tagged
``@fuel-electricity`` or ``@fuel-gas`` applies to meters of that fuel only.

One module per seam, so a reader finds each question in one short file:

- :mod:`~s1sr.plugin.settings`: what a run tests, checked before anything runs;
- :mod:`~s1sr.plugin.options`: the command-line options and the shipped steps;
- :mod:`~s1sr.plugin.selection`: which scenarios run, and the record of what was selected;
- :mod:`~s1sr.plugin.verdicts`: how a verdict is decided, and the record written;
- :mod:`~s1sr.plugin.journaling`: which process journals what (with or without pytest-xdist workers);
- :mod:`~s1sr.plugin.fixtures`: the fixtures the steps use.

pytest finds hooks and fixtures as attributes of this module, so each is imported here.
"""

from s1sr.plugin.fixtures import device_adapter, s1sp, s1sp_clock, s1sr_settings, user
from s1sr.plugin.journaling import pytest_terminal_summary
from s1sr.plugin.keys import NOT_APPLICABLE, RESULT_KEY, SESSION_KEY
from s1sr.plugin.options import (
    pytest_addoption,
    pytest_configure,
    pytest_report_header,
    pytest_unconfigure,
)
from s1sr.plugin.selection import (
    applicability,
    pytest_bdd_apply_tag,
    pytest_collection_finish,
    pytest_collection_modifyitems,
    pytest_generate_tests,
    pytest_runtest_setup,
)
from s1sr.plugin.settings import (
    MAX_TIMEOUT_S,
    SETTINGS_KEY,
    RunSettings,
    active_feature_dirs,
    build_settings,
    check_timeout,
    parse_options,
    parse_shard,
    settings_of,
)
from s1sr.plugin.verdicts import (
    pytest_bdd_after_step,
    pytest_bdd_before_scenario,
    pytest_bdd_step_error,
    pytest_bdd_step_func_lookup_error,
    pytest_runtest_makereport,
    pytest_sessionfinish,
)

__all__ = [
    "MAX_TIMEOUT_S",
    "NOT_APPLICABLE",
    "RESULT_KEY",
    "SESSION_KEY",
    "SETTINGS_KEY",
    "RunSettings",
    "active_feature_dirs",
    "applicability",
    "build_settings",
    "check_timeout",
    "device_adapter",
    "parse_options",
    "parse_shard",
    "pytest_addoption",
    "pytest_bdd_after_step",
    "pytest_bdd_apply_tag",
    "pytest_bdd_before_scenario",
    "pytest_bdd_step_error",
    "pytest_bdd_step_func_lookup_error",
    "pytest_collection_finish",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "pytest_generate_tests",
    "pytest_report_header",
    "pytest_runtest_makereport",
    "pytest_runtest_setup",
    "pytest_sessionfinish",
    "pytest_terminal_summary",
    "pytest_unconfigure",
    "s1sp",
    "s1sp_clock",
    "s1sr_settings",
    "settings_of",
    "user",
]
