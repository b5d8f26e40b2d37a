"""``python -m s1sr``: the same as the ``s1sr`` command."""

from s1sr.cli import main

main()
