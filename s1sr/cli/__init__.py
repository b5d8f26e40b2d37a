"""The ``s1sr`` command: one module per command group, each a thin shell over a library function.

- :mod:`~s1sr.cli.app`: the group, its consoles and one-line errors, shared options;
- :mod:`~s1sr.cli.run`: ``run``;
- :mod:`~s1sr.cli.profiles`: ``profiles``, and ``run``'s ``--profile NAME`` and ``--show-config``;
- :mod:`~s1sr.cli.check`: ``check`` (feature files, before a run);
- :mod:`~s1sr.cli.explore`: ``translate``, ``validate``, ``coverage``;
- :mod:`~s1sr.cli.listing`: ``clauses``, ``versions``, ``modifications``, ``dmcs``, ``adapters``;
- :mod:`~s1sr.cli.serve`: ``serve-device``, ``serve-s1sp``;
- :mod:`~s1sr.cli.reports`: ``diff``, ``consultation``;
- :mod:`~s1sr.cli.journal`: ``report`` (the reports of run journals);
- :mod:`~s1sr.cli.archive`: ``runs``, ``export``, ``verify-export``, ``compare`` (the archive of runs).
"""

from s1sr.cli import archive, check, explore, journal, listing, profiles, reports, run, serve
from s1sr.cli.app import main

__all__ = ["archive", "check", "explore", "journal", "listing", "main", "profiles", "reports", "run", "serve"]
