"""Where the shipped feature files and step definitions are.

In a source checkout they are the top-level ``features/`` and ``steps/``
folders; an installed wheel carries them as ``s1sr/_bundle/``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    installed = _PACKAGE / "_bundle" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name


def features_dir() -> Path:
    """The folder of the shipped ``.feature`` files."""
    return _find("features")


def steps_dir() -> Path:
    """The folder of the shipped step definition modules."""
    return _find("steps")
