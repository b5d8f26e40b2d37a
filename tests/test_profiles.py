"""Run profiles: `s1sr run --profile NAME` takes its settings from pyproject.toml or s1sr.toml; flags win;
`--show-config` says where each setting comes from; every mistake in a profile is one line, exit 2, nothing run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from s1sr.errors import ConfigError
from s1sr.profiles import load_profiles, set_aside, toml_value
from tests.conftest import one_line_error

RUN_DEFAULTS = {"target": "in-process", "adapter": "simulated", "no_archive": False, "archive_dir": None}


def s1sr_in(folder: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``s1sr ARGS`` run from ``folder``; no DUIS schema from the environment, the archive in ``folder``/archive."""
    clean = {k: v for k, v in os.environ.items() if k not in ("S1SR_DUIS_XSD", "S1SR_PROFILE")}
    clean["S1SR_ARCHIVE_DIR"] = str(folder / "archive")
    return subprocess.run(
        [sys.executable, "-m", "s1sr", *args],
        capture_output=True,
        text=True,
        cwd=folder,
        env={**clean, **(env or {})},
        timeout=120,
    )


def settings_shown(done: subprocess.CompletedProcess[str]) -> dict[str, tuple[str, str]]:
    """``--show-config``'s lines as {key: (value, where it comes from)}; the first line is its header."""
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == ""
    shown = {}
    for line in done.stdout.splitlines()[1:]:
        left, source = line.split("  # ", 1)
        key, value = left.rstrip().split(" = ", 1)
        shown[key] = (value, source)
    return shown


def write(folder: Path, files: dict[str, str]) -> Path:
    folder = folder.resolve()
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


LAB = """\
[project]
name = "a-lab"

[tool.s1sr.profiles.lab]
s1sr_version = "4.2"
dmcs = ["secure-esme"]
clauses = ["18.63", "23"]
timeout = 12.5
xsd = "schemas/DUIS.xsd"
report_dir = "reports"
"""


def test_a_profile_in_pyproject_toml_is_found_from_a_folder_below_and_its_paths_are_from_its_file(
    tmp_path: Path,
) -> None:
    lab = write(tmp_path, {"pyproject.toml": LAB})
    below = lab / "work" / "today"
    below.mkdir(parents=True)
    done = s1sr_in(below, "run", "--profile", "lab", "--show-config")
    shown = settings_shown(done)
    profile = f"profile lab in {lab}/pyproject.toml"
    assert (
        done.stdout.splitlines()[0]
        == f"# s1sr run settings: profile lab, {lab}/pyproject.toml [tool.s1sr.profiles.lab]"
    )
    assert shown["s1sr_version"] == ('"4.2"', profile)
    assert shown["dmcs"] == ('["secure-esme"]', profile)
    assert shown["clauses"] == ('["18.63", "23"]', profile)
    assert shown["timeout"] == ("12.5", profile)
    assert shown["xsd"] == (f'"{lab}/schemas/DUIS.xsd"', profile)  # the file's folder, not the working folder
    assert shown["report_dir"] == (f'"{lab}/reports"', profile)
    assert shown["adapter"] == ('"simulated"', "default")
    assert shown["target"] == ('"in-process"', "default")
    assert shown["modifications"] == ("[]", "default")
    assert shown["archive_dir"] == (f'"{below}/archive"', "S1SR_ARCHIVE_DIR")
    assert not (lab / "reports").exists() and not (below / "archive").exists()  # shown, not run


def test_a_profile_in_s1sr_toml(tmp_path: Path) -> None:
    lab = write(tmp_path, {"s1sr.toml": '[profiles.ci]\nmodifications = ["MP312"]\nworkers = 2\nk = "Join"\n'})
    shown = settings_shown(s1sr_in(lab, "run", "--profile", "ci", "--show-config"))
    profile = f"profile ci in {lab}/s1sr.toml"
    assert shown["modifications"] == ('["MP312"]', profile)
    assert shown["workers"] == ("2", profile)
    assert shown["k"] == ('"Join"', profile)
    assert shown["dmcs"] == ('["secure-esme", "secure-gsme"]', "default: the default DMCs")
    assert shown["xsd"] == ("(not set)", "default: schema validation off")


def test_flags_given_on_the_command_line_override_the_profile(tmp_path: Path) -> None:
    lab = write(tmp_path, {"pyproject.toml": LAB})
    done = s1sr_in(
        lab, "run", "--profile", "lab", "--dmc", "secure-gsme", "--timeout", "5", "--show-config", "--", "-x"
    )
    shown = settings_shown(done)
    assert shown["dmcs"] == ('["secure-gsme"]', "command line")
    assert shown["timeout"] == ("5.0", "command line")
    assert shown["s1sr_version"] == ('"4.2"', f"profile lab in {lab}/pyproject.toml")
    assert shown["pytest_args"] == ('["-x"]', "command line, after --")


def test_a_profile_extends_another_of_the_other_file(tmp_path: Path) -> None:
    lab = write(
        tmp_path,
        {
            "pyproject.toml": LAB,
            "s1sr.toml": '[profiles.gas]\nextends = "lab"\ndmcs = ["secure-gsme"]\nreport_dir = "gas-reports"\n',
        },
    )
    done = s1sr_in(lab, "run", "--profile", "gas", "--show-config")
    shown = settings_shown(done)
    assert done.stdout.splitlines()[0] == (
        f"# s1sr run settings: profile gas, {lab}/s1sr.toml [profiles.gas]; "
        f"extends lab, {lab}/pyproject.toml [tool.s1sr.profiles.lab]"
    )
    assert shown["dmcs"] == ('["secure-gsme"]', f"profile gas in {lab}/s1sr.toml")
    assert shown["report_dir"] == (f'"{lab}/gas-reports"', f"profile gas in {lab}/s1sr.toml")
    assert shown["s1sr_version"] == ('"4.2"', f"profile lab (extended by gas) in {lab}/pyproject.toml")
    assert shown["xsd"] == (f'"{lab}/schemas/DUIS.xsd"', f"profile lab (extended by gas) in {lab}/pyproject.toml")


DUIS_LAB = """\
[profiles.duis-lab]
target = "duis"
duis_url = "http://192.0.2.1:8079"
user_key = "keys/user.key"
user_cert = "keys/user.pem"
trust = ["certs"]
response_listen = "127.0.0.1:8090"
response_timeout = 20
adapter = "remote"
device_url = "http://192.0.2.1:8081"
adapter_options = { latency_s = 0.02, fault = "none" }
no_archive = true
"""


def test_show_config_of_a_duis_profile_with_an_adapter_option_reaches_nothing(tmp_path: Path) -> None:
    # 192.0.2.1 is TEST-NET-1: nothing answers there, so a run that tried to reach it would not end in seconds
    lab = write(tmp_path, {"s1sr.toml": DUIS_LAB})
    started = time.monotonic()
    done = s1sr_in(lab, "run", "--profile", "duis-lab", "--show-config")
    assert time.monotonic() - started < 20
    profile = f"profile duis-lab in {lab}/s1sr.toml"
    lines = [" ".join(line.split()) for line in done.stdout.splitlines()]
    expected = [
        f"# s1sr run settings: profile duis-lab, {lab}/s1sr.toml [profiles.duis-lab]",
        f'adapter = "remote" # {profile}',
        f'adapter_options = {{ latency_s = "0.02", fault = "none" }} # {profile}',
        f'device_url = ["http://192.0.2.1:8081"] # {profile}',
        f'target = "duis" # {profile}',
        "s1sp = (not set) # default",
        f'duis_url = "http://192.0.2.1:8079" # {profile}',
        f'user_key = "{lab}/keys/user.key" # {profile}',
        f'user_cert = "{lab}/keys/user.pem" # {profile}',
        "user_keys = (not set) # default",
        f'trust = ["{lab}/certs"] # {profile}',
        f'response_listen = "127.0.0.1:8090" # {profile}',
        "response_path = (not set) # default",
        f"response_timeout = 20.0 # {profile}",
        "archive_dir = (not set) # default",
        f"no_archive = true # {profile}",
    ]
    assert [line for line in lines if line in expected] == expected, done.stdout  # each of them, in this order
    assert done.returncode == 0 and done.stderr == ""
    assert sorted(p.name for p in lab.iterdir()) == ["s1sr.toml"]


def test_a_target_on_the_command_line_sets_aside_the_profiles_settings_for_the_other_target(tmp_path: Path) -> None:
    lab = write(tmp_path, {"s1sr.toml": DUIS_LAB})
    shown = settings_shown(s1sr_in(lab, "run", "--profile", "duis-lab", "--target", "in-process", "--show-config"))
    aside = "default (--target on the command line sets aside profile duis-lab's value)"
    assert shown["target"] == ('"in-process"', "command line")
    assert shown["duis_url"] == ("(not set)", aside)
    assert shown["trust"] == ("[]", aside)
    assert shown["response_timeout"] == ("(not set)", aside)
    assert shown["adapter"] == ('"remote"', f"profile duis-lab in {lab}/s1sr.toml")  # not the target's


def test_archive_dir_on_the_command_line_sets_aside_the_profiles_no_archive(tmp_path: Path) -> None:
    lab = write(tmp_path, {"s1sr.toml": DUIS_LAB})
    shown = settings_shown(s1sr_in(lab, "run", "--profile", "duis-lab", "--archive-dir", "kept", "--show-config"))
    assert shown["archive_dir"] == ('"kept"', "command line")
    assert shown["no_archive"] == (
        "false",
        "default (--archive-dir on the command line sets aside profile duis-lab's value)",
    )


def test_a_run_takes_its_settings_from_the_profile(tmp_path: Path) -> None:
    lab = write(
        tmp_path,
        {"s1sr.toml": '[profiles.annex-c]\nclauses = ["23"]\ndmcs = ["secure-esme"]\nreport_dir = "out/reports"\n'},
    )
    work = lab / "work"
    work.mkdir()
    done = s1sr_in(work, "run", "--profile", "annex-c", "--no-archive", env={"COLUMNS": "200"})
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((lab / "out" / "reports" / "results.json").read_text(encoding="utf-8"))
    assert results["dmc"] == ["secure-esme"]
    assert {s["clauses"][0] for s in results["scenarios"]} == {"23"}
    assert results["summary"]["passed"] == 7
    assert list(work.iterdir()) == []  # the report is where the profile's file says, nothing in the working folder


BAD = [
    ("dmc = []", "unknown key 'dmc'; did you mean 'dmcs'?"),
    ('dmcs = "secure-esme"', 'dmcs must be a list of strings, e.g. ["secure-esme"], not a string'),
    ('timeout = "30"', "timeout must be a number, e.g. 30, not a string"),
    ("workers = 1.5", "workers must be a whole number, e.g. 2, not a float"),
    ('no_archive = "yes"', "no_archive must be true or false, not a string"),
    (
        'adapter_options = { fault = ["busy"] }',
        "adapter_options.fault must be a string, a number or true/false, not a list",
    ),
    ('target = "dui"', "target = \"dui\": 'dui' is not one of 'in-process', 'duis'."),
    ("extends = 3", "extends must be the name of a profile as a string, not an integer"),
    ('extends = "nowhere"', "extends unknown profile 'nowhere'; the profiles in {lab}/s1sr.toml: lab"),
    (
        'archive_dir = "runs"\nno_archive = true',
        "holds archive_dir and no_archive = true: the one keeps the run, the other does not; keep one of them",
    ),
]


@pytest.mark.parametrize(("line", "message"), BAD, ids=[b[0].split(" ")[0] for b in BAD])
def test_a_mistake_in_a_profile_is_one_line_and_nothing_runs(tmp_path: Path, line: str, message: str) -> None:
    lab = write(tmp_path, {"s1sr.toml": f'[profiles.lab]\nreport_dir = "reports"\n{line}\n'})
    error = one_line_error(s1sr_in(lab, "run", "--profile", "lab"))
    assert error == f"s1sr: error: {lab}/s1sr.toml [profiles.lab]: {message.format(lab=lab)}"
    assert sorted(p.name for p in lab.iterdir()) == ["s1sr.toml"]  # no report, no archive, no journal


@pytest.mark.parametrize(
    ("files", "args", "message"),
    [
        (
            {"s1sr.toml": "[profiles.lab]\n[profiles.other]\n"},
            ["--profile", "lba"],
            "--profile lba: unknown profile; did you mean 'lab'? the profiles in {lab}/s1sr.toml: lab, other",
        ),
        (
            {"s1sr.toml": "[profiles.lab]\n"},
            ["--profile", "nightly"],
            "--profile nightly: unknown profile; the profiles in {lab}/s1sr.toml: lab",
        ),
        (
            {"pyproject.toml": "[tool.s1sr.profiles.lab]\n", "s1sr.toml": "[profiles.lab]\n"},
            ["--profile", "lab"],
            "{lab}/pyproject.toml [tool.s1sr.profiles.lab] and {lab}/s1sr.toml [profiles.lab]: profile 'lab' is "
            "defined in both files; keep it in one of them",
        ),
        (
            {"s1sr.toml": '[profiles.a]\nextends = "b"\n[profiles.b]\nextends = "a"\n'},
            ["--profile", "a"],
            "{lab}/s1sr.toml [profiles.b]: extends in a cycle: a -> b -> a; remove one extends",
        ),
        (
            {"s1sr.toml": "[profile.lab]\n"},
            ["--profile", "lab"],
            "{lab}/s1sr.toml: has an unknown table or key 'profile'; s1sr.toml holds [profiles.NAME] tables",
        ),
        (
            {"s1sr.toml": "[profiles.lab\n"},
            ["--profile", "lab"],
            "{lab}/s1sr.toml: is not valid TOML (Expected ']' at the end of a table declaration (at line 1, "
            "column 14)); correct the file",
        ),
        (
            {"s1sr.toml": "[profiles]\nlab = 3\n"},
            ["--profile", "lab"],
            "{lab}/s1sr.toml: profile 'lab' is an integer, not a table; write it as [profiles.lab]",
        ),
        (
            {"pyproject.toml": "[tool.s1sr]\nprofiles = 3\n"},
            ["--profile", "lab"],
            "{lab}/pyproject.toml: tool.s1sr.profiles is not a table; write each profile as a "
            "[tool.s1sr.profiles.NAME] table",
        ),
    ],
    ids=["misspelt", "unknown", "in-both-files", "cycle", "unknown-table", "not-toml", "not-a-table", "pyproject"],
)
def test_a_profile_that_cannot_be_chosen_is_one_line_and_nothing_runs(
    tmp_path: Path, files: dict[str, str], args: list[str], message: str
) -> None:
    lab = write(tmp_path, files)
    error = one_line_error(s1sr_in(lab, "run", *args))
    assert error == f"s1sr: error: {message.format(lab=lab)}"
    assert sorted(p.name for p in lab.iterdir()) == sorted(files)


def test_show_config_with_a_broken_profile_is_the_same_one_line(tmp_path: Path) -> None:
    lab = write(tmp_path, {"s1sr.toml": "[profiles.lab]\ndmc = []\n"})
    error = one_line_error(s1sr_in(lab, "run", "--profile", "lab", "--show-config"))
    assert error == f"s1sr: error: {lab}/s1sr.toml [profiles.lab]: unknown key 'dmc'; did you mean 'dmcs'?"


def test_help_is_shown_whatever_the_profile(tmp_path: Path) -> None:
    lab = write(tmp_path, {"s1sr.toml": "[profiles.lab]\ndmc = []\n"})
    done = s1sr_in(lab, "run", "--profile", "lab", "--help")
    assert done.returncode == 0 and "--show-config" in done.stdout


def test_show_config_without_a_profile_and_s1sr_profile_is_not_read(tmp_path: Path) -> None:
    # A profile changes what is tested: it is chosen where it is seen, on the command line (and in the
    # archived run's command line), never silently by an environment variable left set.
    lab = write(tmp_path, {"s1sr.toml": '[profiles.lab]\ns1sr_version = "4.2"\n'})
    done = s1sr_in(lab, "run", "--show-config", env={"S1SR_PROFILE": "lab"})
    shown = settings_shown(done)
    assert done.stdout.splitlines()[0] == (
        "# s1sr run settings: no profile (--profile NAME chooses one; s1sr profiles lists them)"
    )
    assert shown["s1sr_version"] == ('"4.3"', "default")


def test_profiles_lists_the_profiles_and_their_files(tmp_path: Path) -> None:
    lab = write(
        tmp_path,
        {"pyproject.toml": LAB, "s1sr.toml": '[profiles.gas]\nextends = "lab"\ndmcs = ["secure-gsme"]\n'},
    )
    done = s1sr_in(lab, "profiles")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"profiles in {lab}/pyproject.toml and {lab}/s1sr.toml:",
        f"gas  {lab}/s1sr.toml [profiles.gas]; extends lab; sets dmcs",
        f"lab  {lab}/pyproject.toml [tool.s1sr.profiles.lab]; "
        "sets s1sr_version, dmcs, clauses, timeout, xsd, report_dir",
    ]
    listed = json.loads(s1sr_in(lab, "profiles", "--json").stdout)
    assert listed["files"] == [f"{lab}/pyproject.toml", f"{lab}/s1sr.toml"]
    gas = listed["profiles"][0]
    assert (gas["name"], gas["file"], gas["table"], gas["extends"]) == (
        "gas",
        f"{lab}/s1sr.toml",
        "profiles.gas",
        "lab",
    )
    assert gas["settings"] == {
        "s1sr_version": "4.2",
        "dmcs": ["secure-gsme"],
        "clauses": ["18.63", "23"],
        "timeout": 12.5,
        "xsd": f"{lab}/schemas/DUIS.xsd",
        "report_dir": f"{lab}/reports",
    }
    assert gas["from"]["dmcs"] == f"profile gas in {lab}/s1sr.toml"
    assert gas["from"]["xsd"] == f"profile lab (extended by gas) in {lab}/pyproject.toml"


def test_profiles_checks_every_profile(tmp_path: Path) -> None:
    lab = write(tmp_path, {"s1sr.toml": '[profiles.good]\ndmcs = ["secure-esme"]\n[profiles.bad]\ntimeout = "1"\n'})
    error = one_line_error(s1sr_in(lab, "profiles"))
    assert error == f"s1sr: error: {lab}/s1sr.toml [profiles.bad]: timeout must be a number, e.g. 30, not a string"


def test_the_nearest_folder_holding_either_file_is_the_one_read(tmp_path: Path) -> None:
    outer = write(tmp_path, {"s1sr.toml": "[profiles.outer]\n"})
    inner = outer / "checkout"
    inner.mkdir()
    write(inner, {"pyproject.toml": '[project]\nname = "x"\n'})
    assert load_profiles(inner).names() == []  # the nearest, inner, holds no profile: outer's is not read
    assert load_profiles(outer).names() == ["outer"]
    with pytest.raises(ConfigError, match=r"^--profile outer: unknown profile; no profile in .*/checkout/pyproject"):
        load_profiles(inner).resolve("outer", RUN_DEFAULTS)


def test_what_a_higher_level_sets_aside() -> None:
    duis = {"target": "duis", "duis_url": "http://x", "trust": ["/c"], "adapter": "remote", "device_url": "http://d"}
    assert set_aside(duis, {"target": "in-process"}, RUN_DEFAULTS) == {"duis_url": "target", "trust": "target"}
    assert set_aside(duis, {"target": "duis"}, RUN_DEFAULTS) == {}  # the same value: nothing replaced
    assert set_aside(duis, {"adapter": "simulated"}, RUN_DEFAULTS) == {"device_url": "adapter"}
    # a profile without a target has the default one: giving that again sets nothing aside
    assert set_aside({"s1sp": "mine:S1SP"}, {"target": "in-process"}, RUN_DEFAULTS) == {}
    assert set_aside({"s1sp": "mine:S1SP"}, {"target": "duis"}, RUN_DEFAULTS) == {"s1sp": "target"}
    assert set_aside({"archive_dir": "/r"}, {"no_archive": True}, RUN_DEFAULTS) == {"archive_dir": "no_archive"}


def test_settings_are_written_as_toml_writes_them() -> None:
    assert toml_value('a "b"') == '"a \\"b\\""'
    assert toml_value(True) == "true"
    assert toml_value(0.02) == "0.02"
    assert toml_value(("x", Path("/y"))) == '["x", "/y"]'
    assert toml_value({"latency_s": "0.02", "odd key": 1}) == '{ latency_s = "0.02", "odd key" = 1 }'
    assert toml_value({}) == "{}"
