"""``s1sr run`` loads the pytest plugins it names and no other installed beside it.

A plugin a machine happens to have (this project's own dev install has hypothesis's and anyio's) must not
change how the clause scenarios run, on the run's process or on its pytest-xdist workers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import s1sr

LISTER = """import json, os


def pytest_configure(config):
    names = sorted(name for name, _ in config.pluginmanager.list_name_plugin() if name)
    where = getattr(config, "workerinput", {{}}).get("workerid", "main")  # not the environment: these tests
    # run on workers too, and a subprocess inherits PYTEST_XDIST_WORKER
    with open(os.path.join({folder!r}, where + ".json"), "w") as out:
        json.dump(names, out)
"""


@pytest.mark.parametrize("workers", [[], ["--workers", "2"]], ids=["one process", "two workers"])
def test_a_run_loads_the_plugins_it_names_and_no_other(tmp_path: Path, workers: list[str]) -> None:
    (tmp_path / "s1sr_plugin_lister.py").write_text(LISTER.format(folder=str(tmp_path)), encoding="utf-8")
    done = s1sr(
        "run", "--clause", "23", "--no-archive", *workers, "--", "-p", "s1sr_plugin_lister",
        env={"PYTHONPATH": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    found = {path.stem: json.loads(path.read_text()) for path in tmp_path.glob("*.json")}
    assert sorted(found) == (["gw0", "gw1", "main"] if workers else ["main"])
    for names in found.values():
        assert {"pytest_bdd.plugin", "s1sr.plugin", "s1sr_plugin_lister"} <= set(names), names
        assert not [n for n in names if "hypothesis" in n or "anyio" in n or "platformdirs" in n], names
        assert ("xdist.plugin" in names) == bool(workers)
