"""What a newcomer types first: a bare ``s1sr`` shows what it can do and succeeds; ``--version`` says which."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import REPO, s1sr


def test_a_bare_s1sr_prints_the_help_and_exits_0() -> None:
    done = s1sr()
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Usage: s1sr [OPTIONS] [COMMAND] [ARGS]...")
    for command in ("run", "clauses", "consultation", "serve-s1sp", "translate", "validate"):
        assert f"  {command} " in done.stdout or f"  {command}\n" in done.stdout, command
    assert done.stderr == ""


def test_version() -> None:
    done = s1sr("--version")
    assert (done.returncode, done.stdout) == (0, "s1sr, version 0.1.0\n")


def test_errors_name_the_option_or_argument_the_user_typed() -> None:
    done = s1sr("run", "--s1sp-version", "9.9")
    assert (done.returncode, done.stderr) == (
        2,
        "s1sr: error: --s1sp-version: no catalogue for S1SR version '9.9'; choose one of 4.2, 4.3\n",
    )
    done = s1sr("diff", "4.2", "4.4")
    assert (done.returncode, done.stderr) == (
        2,
        "s1sr: error: s1sr diff B: no catalogue for S1SR version '4.4'; choose one of 4.2, 4.3\n",
    )
    done = s1sr("run", "--device-url", "http://127.0.0.1:9")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith("s1sr: error: --device-url: ") and "add --adapter remote" in done.stderr


def test_a_run_without_the_duis_schema_says_so_in_its_verdict(tmp_path: Path) -> None:
    # From a folder with no pyproject.toml and no schema in the environment: nothing names a schema.
    done = s1sr(
        "run", "--clause", "18.16", "--dmc", "secure-esme", "--report-dir", str(tmp_path / "r"),
        cwd=tmp_path, env={"S1SR_DUIS_XSD": "", "S1SR_REQUIRE_XSD": ""},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    line = "the DUIS schema was not checked (no --xsd, S1SR_DUIS_XSD or [tool.s1sr] duis_xsd)"
    assert f"CONFORMANT: all 7 applicable scenario(s) passed; {line}" in done.stdout
    results = json.loads((tmp_path / "r" / "results.json").read_text())
    assert results["verdict"] == "CONFORMANT" and results["verdict_reason"].endswith(line)
    assert results["schema"]["xsd"] is None


def test_a_relative_features_folder_is_the_users_not_the_suites(tmp_path: Path) -> None:
    done = s1sr("run", "--features", "features", "--clause", "18.16", "--dmc", "secure-esme")  # cwd: the checkout
    assert done.returncode == 0, done.stdout + done.stderr
    assert "CONFORMANT: all 7 applicable scenario(s) passed" in done.stdout


def test_catalogue_names_the_folder_the_run_reads(tmp_path: Path) -> None:
    varied = REPO / "fixtures" / "catalogue-varied"
    done = s1sr(
        "run", "--catalogue", str(varied), "--features", str(varied / "features"), "--clause", "18.37",
        "--dmc", "secure-esme",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "13 passed, 0 failed" in done.stdout
    # The shipped 18.37 expects the shipped maximum (65535 W); the varied catalogue's is another.
    shipped = s1sr("run", "--catalogue", str(varied), "--clause", "18.37", "--dmc", "secure-esme")
    assert shipped.returncode == 1, shipped.stdout + shipped.stderr
    done = s1sr("run", "--catalogue", str(tmp_path))
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"s1sr: error: --catalogue {tmp_path}: names no catalogue folder")


def test_every_listing_command_speaks_json() -> None:
    versions = json.loads(s1sr("versions", "--json").stdout)
    assert [(v["version"], v["clauses"]) for v in versions] == [("4.2", 3), ("4.3", 12)]
    found = {d["id"]: d for d in json.loads(s1sr("dmcs", "--json").stdout)}
    assert sorted(found) == ["secure-esme", "secure-esme-credit", "secure-esme-twin", "secure-gsme"]
    assert (found["secure-gsme"]["default"], found["secure-gsme"]["meter"]["fuel"]) == (True, "gas")
    assert found["secure-esme-credit"]["default"] is False
    assert found["secure-esme"]["comms_hub"]["id"] == "secure-chf"
