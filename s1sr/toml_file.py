"""A small TOML file a user names on the command line, read with a size bound and one-line errors."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from s1sr.errors import InputError


def read_toml_file(path: Path, where: str, max_bytes: int, *, kind: str, too_big: str, shape: str) -> dict[str, Any]:
    """The table of the TOML file at ``path``; :class:`InputError` naming ``where`` when it cannot be.

    At most ``max_bytes`` are read. The fixes the errors suggest: ``kind`` for a folder given instead of a
    file ("name a TOML file"), ``too_big`` for a file over the bound, ``shape`` for a file that is not TOML.
    """
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError("no such file", where, "check the path") from None
    except IsADirectoryError:
        raise InputError("is a folder", where, kind) from None
    except OSError as exc:
        raise InputError(f"cannot be read ({exc.strerror})", where) from None
    if len(data) > max_bytes:
        raise InputError(f"is over {max_bytes:,} bytes", where, too_big)
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError("is not UTF-8 text", where) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"is not TOML ({exc})", where, shape) from None
