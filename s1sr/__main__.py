"""``python -m s1sr``: the same as the ``s1sr`` command (and named so in its messages)."""

from s1sr.cli import main

main(prog_name="s1sr")
