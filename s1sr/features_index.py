"""The feature files, read with pytest-bdd's own Gherkin parser, so what is counted from them matches what a run
collects (:func:`s1sr.observability.scenario_views` counts the scenarios of each clause)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from s1sr.errors import InputError


def check_features(folders: list[Path]) -> list[Any]:
    """Parse every ``.feature`` file of ``folders``, one at a time; return pytest-bdd's features.

    A file that cannot be read or parsed is an :class:`InputError` naming it as
    ``file:line`` with the parser's reason, so a run refuses it before anything runs.
    """
    from pytest_bdd.exceptions import GherkinParseError
    from pytest_bdd.feature import get_feature

    features = []
    for folder in folders:
        for path in sorted(folder.rglob("*.feature")):
            try:
                features.append(get_feature(str(path.parent), path.name))
            except GherkinParseError as exc:
                line = f":{exc.line}" if getattr(exc, "line", None) else ""
                reason = str(getattr(exc, "message", "") or exc).strip().splitlines()[0]
                raise InputError(f"feature file does not parse: {reason}", f"{path}{line}", "fix the Gherkin") from None
            except UnicodeDecodeError as exc:
                raise InputError(
                    f"feature file is not UTF-8 (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})",
                    str(path),
                    "save it as UTF-8",
                ) from None
            except OSError as exc:
                raise InputError(f"cannot read the feature file ({exc.strerror})", str(path)) from None
    return features
