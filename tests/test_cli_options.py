"""The command line owns its options: a typo or a stray word is one line naming what was typed, exit 2."""

from __future__ import annotations

import pytest

from tests.conftest import s1sr


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["run", "--dmcs", "secure-esme"],
            "s1sr run: No such option '--dmcs'. Did you mean '--dmc'?; see s1sr run --help",
        ),
        (
            ["run", "--repot-dir", "X"],
            "s1sr run: No such option '--repot-dir'. (Did you mean one of: '--archive-dir', '--report-dir'?); "
            "see s1sr run --help",
        ),
        (
            ["run", "--timeout", "abc"],
            "s1sr run: Invalid value for '--timeout': 'abc' is not a valid float.; see s1sr run --help",
        ),
        (
            ["serve-device", "--dmc", "secure-esme", "--port", "99999"],
            "s1sr serve-device: Invalid value for '--port': 99999 is not in the range 0<=x<=65535.; "
            "see s1sr serve-device --help",
        ),
        (
            ["run", "18.3"],
            "s1sr run: unexpected argument '18.3'; s1sr run takes options only (see s1sr run --help); "
            "to choose a clause use --clause ID, to pass arguments to pytest put them after --",
        ),
    ],
)
def test_a_mistyped_command_line_is_one_line_naming_what_was_typed(args: list[str], line: str) -> None:
    done = s1sr(*args)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr == f"s1sr: error: {line}\n"
    assert done.stdout == ""


def test_only_what_follows_the_double_dash_reaches_pytest() -> None:
    done = s1sr("run", "--clause", "18.62", "--dmc", "secure-esme", "--", "-k", "3600")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "CONFORMANT: all 1 applicable scenario(s) passed" in done.stdout


def test_validate_counts_the_files_it_could_not_read() -> None:
    from tests.conftest import REPO

    files = sorted(str(p) for p in (REPO / "fixtures" / "hostile").glob("*.xml"))
    assert len(files) == 53
    done = s1sr("validate", *files)
    assert done.returncode == 2
    assert done.stdout.splitlines()[-1].startswith("8 valid, 28 invalid, 17 unreadable (schema: ")
    assert len(done.stderr.splitlines()) == 17
