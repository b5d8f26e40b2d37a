"""What a newcomer types first: a bare ``s1sr`` shows what it can do and succeeds; ``--version`` says which."""

from __future__ import annotations

from tests.conftest import s1sr


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
