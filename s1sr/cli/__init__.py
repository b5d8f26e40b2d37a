"""The ``s1sr`` command: one module per command group, each a thin shell over a library function.

- :mod:`~s1sr.cli.app`: the group, its consoles and one-line errors, shared options;
- :mod:`~s1sr.cli.run`: ``run``;
- :mod:`~s1sr.cli.explore`: ``translate``, ``validate``;
- :mod:`~s1sr.cli.listing`: ``clauses``, ``versions``, ``dmcs``, ``adapters``;
- :mod:`~s1sr.cli.serve`: ``serve-device``;
- :mod:`~s1sr.cli.reports`: ``diff``, ``consultation``.
"""

from s1sr.cli import explore, listing, reports, run, serve
from s1sr.cli.app import main

__all__ = ["explore", "listing", "main", "reports", "run", "serve"]
