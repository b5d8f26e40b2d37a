"""Run profiles: named sets of ``s1sr run`` settings that a lab keeps in a file, chosen with ``--profile NAME``.

Where they are: the nearest folder, from the working folder upwards, that holds a ``pyproject.toml`` or an
``s1sr.toml`` (the search that finds ``[tool.s1sr] duis_xsd``). Its ``pyproject.toml`` holds profiles as
``[tool.s1sr.profiles.NAME]`` tables, its ``s1sr.toml`` as ``[profiles.NAME]`` tables; a name in both is
refused. A profile holds settings of :data:`SETTINGS` under their keys; a relative path is taken from the
folder of the file that holds it; ``extends = "OTHER"`` starts from another profile's settings.

A setting given at a higher level (a profile over the one it extends, the command line over a profile)
replaces the lower one's, and sets aside the lower level's settings that belong to the one it replaced
(:data:`BELONGS_TO`): ``--target in-process`` on the command line sets aside a DUIS profile's ``duis_url``,
instead of failing on it.

This module reads, checks and resolves profiles; :mod:`s1sr.cli.profiles` hands them to ``s1sr run``.
"""

from __future__ import annotations

import difflib
import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s1sr.errors import ConfigError

PYPROJECT = "pyproject.toml"
S1SR_TOML = "s1sr.toml"
#: The key that names the profile a profile starts from.
EXTENDS = "extends"
#: Largest profile file read (a pyproject.toml is a few KiB).
MAX_FILE_BYTES = 1024 * 1024

# What a setting's value is, in the TOML file.
TEXT, TEXTS, TEXT_OR_TEXTS, PATH, PATHS, NUMBER, COUNT, FLAG, TABLE = (
    "text",
    "texts",
    "text or texts",
    "path",
    "paths",
    "number",
    "count",
    "flag",
    "table",
)
_EXPECTED = {
    TEXT: 'a string, e.g. "4.3"',
    TEXTS: 'a list of strings, e.g. ["secure-esme"]',
    TEXT_OR_TEXTS: 'a string or a list of strings, e.g. "http://rig-1:8081"',
    PATH: 'a path as a string, e.g. "keys/user.pem"',
    PATHS: 'a list of paths, e.g. ["certs"]',
    NUMBER: "a number, e.g. 30",
    COUNT: "a whole number, e.g. 2",
    FLAG: "true or false",
    TABLE: 'a table of KEY = VALUE, e.g. { latency_s = 0.02, fault = "busy" }',
}


@dataclass(frozen=True)
class Setting:
    """A setting a profile may hold: its key there, the ``s1sr run`` parameter it sets, what its value is."""

    key: str
    param: str
    kind: str

    @property
    def option(self) -> str:
        """The option of ``s1sr run`` that gives it on the command line."""
        return OPTIONS.get(self.key, "--" + self.key.replace("_", "-"))

    def option_value(self, value: Any) -> Any:
        """``value`` (as a profile holds it) as the option takes it: a table becomes ``KEY=VALUE`` items."""
        if self.kind == TABLE:
            return [f"{k}={_scalar(v)}" for k, v in value.items()]
        return value


#: Every setting of ``s1sr run`` a lab keeps, in the order ``--show-config`` prints them.
SETTINGS = (
    Setting("s1sr_version", "s1sr_version", TEXT),
    Setting("modifications", "modifications", TEXTS),
    Setting("dmcs", "dmcs", TEXTS),
    Setting("clauses", "clauses", TEXTS),
    Setting("features", "feature_dirs", PATHS),
    Setting("catalogue", "catalogue", PATH),
    Setting("xsd", "xsd", PATH),
    Setting("timeout", "timeout", NUMBER),
    Setting("adapter", "adapter", TEXT),
    Setting("adapter_options", "adapter_options", TABLE),
    Setting("device_url", "device_url", TEXT_OR_TEXTS),  # several: a pool of rigs
    Setting("pool", "pool", PATH),
    Setting("target", "target", TEXT),
    Setting("s1sp", "s1sp", TEXT),
    Setting("s1sp_version", "s1sp_version", TEXT),
    Setting("duis_url", "duis_url", TEXT),
    Setting("user_key", "user_key", PATH),
    Setting("user_cert", "user_cert", PATH),
    Setting("user_keys", "user_keys", PATH),
    Setting("trust", "trust", PATHS),
    Setting("response_listen", "response_listen", TEXT),
    Setting("response_path", "response_path", TEXT),  # a URL path (/duis/response), not a file
    Setting("response_timeout", "response_timeout", NUMBER),
    Setting("signing_key", "signing_key", PATH),
    Setting("signing_cert", "signing_cert", PATH),
    Setting("workers", "workers", COUNT),
    Setting("report_dir", "report_dir", PATH),
    Setting("journal", "journal", PATH),
    Setting("archive_dir", "archive_dir", PATH),
    Setting("no_archive", "no_archive", FLAG),
    Setting("waivers", "waivers", PATH),
    Setting("k", "select", TEXT),
)
BY_KEY = {s.key: s for s in SETTINGS}
#: Options not named ``--`` + key.
OPTIONS = {"modifications": "--modification", "dmcs": "--dmc", "clauses": "--clause", "k": "-k"}

_DUIS_ONLY = ("duis_url", "user_key", "user_cert", "user_keys", "trust", "response_listen", "response_path")
#: Settings that belong to another: when a higher level gives that other a value the lower level does not
#: have, the lower level's settings that belong to it are set aside (they were for the value replaced).
BELONGS_TO: dict[str, tuple[str, ...]] = {
    "target": (*_DUIS_ONLY, "response_timeout", "s1sp", "s1sp_version", "signing_key", "signing_cert"),
    "adapter": ("adapter_options", "device_url", "pool"),
    "no_archive": ("archive_dir",),
    "archive_dir": ("no_archive",),
}


@dataclass(frozen=True)
class Profile:
    """One ``[...profiles.NAME]`` table, as written in its file."""

    name: str
    file: Path
    table: str
    raw: dict[str, Any]

    @property
    def where(self) -> str:
        """Where it is, for messages: ``/lab/pyproject.toml [tool.s1sr.profiles.NAME]``."""
        return f"{self.file} [{self.table}]"

    @property
    def extends(self) -> str | None:
        """The profile this one starts from, as written (checked as :meth:`ProfileSet.resolve` follows it)."""
        value = self.raw.get(EXTENDS)
        return value if isinstance(value, str) else None

    def settings(self) -> dict[str, Any]:
        """Its settings, checked, relative paths made absolute; :class:`ConfigError` (one line) otherwise."""
        found: dict[str, Any] = {}
        for key, value in self.raw.items():
            if key == EXTENDS:  # checked as it is followed (ProfileSet.resolve)
                continue
            setting = BY_KEY.get(key)
            if setting is None:
                near = difflib.get_close_matches(key, [*BY_KEY, EXTENDS], n=1)
                fix = f"did you mean '{near[0]}'?" if near else f"the keys are {', '.join(BY_KEY)}, {EXTENDS}"
                raise ConfigError(f"unknown key '{key}'", self.where, fix)
            found[key] = self._checked(setting, value)
        if found.get("no_archive") and "archive_dir" in found:
            raise ConfigError(
                "holds archive_dir and no_archive = true: the one keeps the run, the other does not",
                self.where,
                "keep one of them",
            )
        return found

    def _checked(self, setting: Setting, value: Any) -> Any:
        kind, folder = setting.kind, self.file.parent
        good = {
            TEXT: isinstance(value, str),
            TEXTS: isinstance(value, list) and all(isinstance(v, str) for v in value),
            TEXT_OR_TEXTS: isinstance(value, str)
            or (isinstance(value, list) and all(isinstance(v, str) for v in value)),
            PATH: isinstance(value, str) and value != "",
            PATHS: isinstance(value, list) and all(isinstance(v, str) and v != "" for v in value),
            NUMBER: isinstance(value, int | float) and not isinstance(value, bool),
            COUNT: isinstance(value, int) and not isinstance(value, bool),
            FLAG: isinstance(value, bool),
            TABLE: isinstance(value, dict),
        }[kind]
        if not good:
            raise ConfigError(f"{setting.key} must be {_EXPECTED[kind]}, not {_toml_type(value)}", self.where)
        if kind == TABLE:
            for name, item in value.items():
                if "=" in name:
                    raise ConfigError(f"{setting.key}: the option name {json.dumps(name)} holds '='", self.where)
                if not isinstance(item, str | int | float | bool):
                    raise ConfigError(
                        f"{setting.key}.{_toml_key(name)} must be a string, a number or true/false, "
                        f"not {_toml_type(item)}",
                        self.where,
                    )
        if kind == PATH:
            return str(folder / value)  # an absolute value stays as it is
        if kind == PATHS:
            return [str(folder / v) for v in value]
        return value


@dataclass(frozen=True)
class ResolvedProfile:
    """A profile with what it extends: its settings, and the profile each comes from."""

    name: str
    chain: tuple[Profile, ...]
    settings: dict[str, Any]
    origins: dict[str, Profile]

    @property
    def profile(self) -> Profile:
        """The profile chosen (the first of :attr:`chain`)."""
        return self.chain[0]

    def origin(self, key: str) -> str:
        """Where setting ``key`` comes from: ``profile lab in /lab/s1sr.toml`` (and through which profile)."""
        held = self.origins[key]
        through = f" (extended by {self.name})" if held.name != self.name else ""
        return f"profile {held.name}{through} in {held.file}"


@dataclass(frozen=True)
class ProfileSet:
    """The profiles found from a folder: the files read and their profiles by name."""

    searched_from: Path
    files: tuple[Path, ...]
    profiles: dict[str, Profile] = field(default_factory=dict)

    def names(self) -> list[str]:
        """The profile names, sorted."""
        return sorted(self.profiles)

    def described(self) -> str:
        """What was found, for messages: the profiles and their files, or where none was found."""
        if not self.files:
            return f"no {PYPROJECT} or {S1SR_TOML} in {self.searched_from} or a folder above it"
        files = " and ".join(str(f) for f in self.files)
        if not self.profiles:
            return f"no profile in {files}"
        return f"the profiles in {files}: {', '.join(self.names())}"

    def resolve(self, name: str, defaults: Mapping[str, Any]) -> ResolvedProfile:
        """Profile ``name`` with what it extends; ``defaults``: the run's default of each setting, by key.

        :class:`ConfigError` (one line) for an unknown name, an unknown or badly typed key, an unknown
        profile extended, or a cycle of ``extends``.
        """
        if name not in self.profiles:
            near = difflib.get_close_matches(name, self.names(), n=1)
            hint = f"did you mean '{near[0]}'? " if near else ""
            raise ConfigError("unknown profile", f"--profile {name}", f"{hint}{self.described()}")
        chain = [self.profiles[name]]
        while EXTENDS in chain[-1].raw:
            current, parent = chain[-1], chain[-1].raw[EXTENDS]
            if not isinstance(parent, str):
                raise ConfigError(
                    f"extends must be the name of a profile as a string, not {_toml_type(parent)}", current.where
                )
            if parent not in self.profiles:
                raise ConfigError(f"extends unknown profile '{parent}'", current.where, self.described())
            if any(p.name == parent for p in chain):
                cycle = " -> ".join([*(p.name for p in chain), parent])
                raise ConfigError(f"extends in a cycle: {cycle}", current.where, "remove one extends")
            chain.append(self.profiles[parent])
        settings: dict[str, Any] = {}
        origins: dict[str, Profile] = {}
        for profile in reversed(chain):  # the furthest first: each profile over the one it extends
            own = profile.settings()
            for key in set_aside(settings, own, defaults):
                del settings[key], origins[key]
            settings.update(own)
            origins.update(dict.fromkeys(own, profile))
        return ResolvedProfile(name, tuple(chain), settings, origins)


def set_aside(lower: Mapping[str, Any], higher: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, str]:
    """The settings of ``lower`` that ``higher`` sets aside, each with the key of ``higher`` that does.

    ``higher`` sets aside the settings of ``lower`` that belong (:data:`BELONGS_TO`) to a setting that
    ``higher`` gives another value than ``lower`` has (its default when ``lower`` does not give it).
    """
    gone: dict[str, str] = {}
    for key, members in BELONGS_TO.items():
        if key in higher and higher[key] != lower.get(key, defaults.get(key)):
            gone.update({m: key for m in members if m in lower and m not in higher and m not in gone})
    return gone


def profile_files(start: Path) -> tuple[Path, ...]:
    """The ``pyproject.toml`` and ``s1sr.toml`` of the nearest folder, from ``start`` upwards, holding either."""
    here = start.resolve()
    for folder in (here, *here.parents):
        found = tuple(folder / name for name in (PYPROJECT, S1SR_TOML) if (folder / name).is_file())
        if found:
            return found
    return ()


def load_profiles(start: Path) -> ProfileSet:
    """The profiles found from ``start`` upwards; :class:`ConfigError` (one line) for a file that cannot be read
    or a profile name defined in both files."""
    files = profile_files(start)
    found: dict[str, Profile] = {}
    for path in files:
        for profile in _profiles_in(path):
            if profile.name in found:
                other = found[profile.name]
                raise ConfigError(
                    f"profile '{profile.name}' is defined in both files",
                    f"{other.where} and {profile.where}",
                    "keep it in one of them",
                )
            found[profile.name] = profile
    return ProfileSet(start.resolve(), files, found)


def _profiles_in(path: Path) -> list[Profile]:
    where = str(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot be read ({exc.strerror or exc})", where) from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(f"is larger than {MAX_FILE_BYTES // 1024} KiB", where, "keep profiles in a small file")
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError("is not UTF-8 text", where, "save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"is not valid TOML ({exc})", where, "correct the file") from None
    if path.name == PYPROJECT:
        tool = document.get("tool")
        s1sr = tool.get("s1sr") if isinstance(tool, dict) else None
        tables, prefix = (s1sr.get("profiles") if isinstance(s1sr, dict) else None), "tool.s1sr.profiles"
    else:
        unknown = [key for key in document if key != "profiles"]
        if unknown:
            raise ConfigError(
                f"has an unknown table or key '{unknown[0]}'", where, f"{S1SR_TOML} holds [profiles.NAME] tables"
            )
        tables, prefix = document.get("profiles"), "profiles"
    if tables is None:
        return []
    if not isinstance(tables, dict):
        raise ConfigError(f"{prefix} is not a table", where, f"write each profile as a [{prefix}.NAME] table")
    profiles = []
    for name, table in tables.items():
        if not isinstance(table, dict):
            raise ConfigError(
                f"profile '{name}' is {_toml_type(table)}, not a table", where, f"write it as [{prefix}.{name}]"
            )
        profiles.append(Profile(name, path, f"{prefix}.{_toml_key(name)}", table))
    return profiles


def toml_value(value: Any) -> str:
    """``value`` written as TOML writes it (a path as a string), for people reading settings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Mapping):
        items = ", ".join(f"{_toml_key(str(k))} = {toml_value(v)}" for k, v in value.items())
        return "{ " + items + " }" if items else "{}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string is a JSON string


def _toml_key(key: str) -> str:
    return key if key and all(c.isalnum() or c in "-_" for c in key) else json.dumps(key, ensure_ascii=False)


def _scalar(value: str | int | float | bool) -> str:
    return toml_value(value) if isinstance(value, bool) else str(value)


def _toml_type(value: Any) -> str:
    for kind, name in ((bool, "true/false"), (int, "an integer"), (float, "a float"), (str, "a string")):
        if isinstance(value, kind):
            return name
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return "a date or time"
