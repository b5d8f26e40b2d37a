"""``s1sr profiles``; and ``s1sr run``'s ``--profile NAME`` and ``--show-config``.

A profile (:mod:`s1sr.profiles`) reaches ``s1sr run`` through click's default map: the values click takes
for the options the command line does not give. So a flag on the command line wins, and click's
``ParameterSource`` tells, for each setting, whether it came from the command line, the profile
(``DEFAULT_MAP``) or the option's default: what ``--show-config`` prints beside each value.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click
from click.core import ParameterSource

from s1sr.cli.app import main, out
from s1sr.errors import ConfigError
from s1sr.profiles import BY_KEY, SETTINGS, TABLE, ProfileSet, ResolvedProfile, load_profiles, set_aside, toml_value

F = TypeVar("F", bound=Callable[..., Any])
_META = "s1sr.profiles"
#: Parameters that are not settings of the run: how it is asked for, not what it runs.
_NOT_SETTINGS = frozenset({"profile", "show_config", "extra"})


@dataclass
class ProfileChoice:
    """What ``--profile`` and ``--show-config`` asked for, and what the command line gave (by parameter)."""

    given: dict[str, Any]
    show_config: bool = False
    profile: ResolvedProfile | None = None
    #: The profile's settings that the command line set aside, each with the key that set it aside.
    set_aside: dict[str, str] = field(default_factory=dict)


class ProfiledCommand(click.Command):
    """A command whose options may come from a run profile (``--profile NAME``), with ``--show-config``.

    The profile is read before click parses the options (with a parse of its own that runs no callback),
    so that it is in place however the options are ordered, eager ones (``--catalogue``) included.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Put the chosen profile in click's default map, then parse as click does."""
        if not ctx.resilient_parsing:
            choose_profile(ctx, self, args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; with ``--show-config``, print the resolved settings instead (exit code 0)."""
        choice: ProfileChoice | None = ctx.meta.get(_META)
        if choice is not None and choice.show_config:
            for line in config_lines(ctx, choice):
                out.print(line, markup=False)
            return None
        return super().invoke(ctx)


def profile_options(command: F) -> F:
    """``--profile NAME`` and ``--show-config`` on a :class:`ProfiledCommand` (which reads them)."""
    for option in (
        click.option(
            "--show-config",
            is_flag=True,
            expose_value=False,
            help="Print the settings the run would use, each with where it comes from (command line, profile, "
            "default), and exit without running.",
        ),
        click.option(
            "--profile",
            default=None,
            metavar="NAME",
            expose_value=False,
            help="Take the settings of run profile NAME ([tool.s1sr.profiles.NAME] in pyproject.toml or "
            "[profiles.NAME] in s1sr.toml, here or in a folder above; see s1sr profiles); options given here win.",
        ),
    ):
        command = option(command)
    return command


def choose_profile(ctx: click.Context, command: click.Command, args: list[str]) -> None:
    """Resolve ``--profile NAME`` and make its settings the default map of ``ctx``; note ``--show-config``.

    :class:`ConfigError` (one line) for anything wrong with the profile; nothing has run by then.
    """
    opts, _, _ = command.make_parser(ctx).parse_args(args=list(args))
    given = {name: value for name, value in opts.items() if _plain(value) is not None}
    choice = ProfileChoice(given, show_config=bool(given.get("show_config")))
    ctx.meta[_META] = choice
    help_option = command.get_help_option(ctx)
    if given.get("profile") is None or (help_option is not None and help_option.name in given):
        return  # --help shows the help whatever the profile
    profiles = load_profiles(Path.cwd())
    defaults = run_defaults(ctx, command)
    resolved = profiles.resolve(str(given["profile"]), defaults)
    values = checked_for(ctx, command, resolved)
    params = _params(command)
    on_command_line = {}
    for setting in SETTINGS:
        if setting.param in given:
            try:
                on_command_line[setting.key] = params[setting.param].type_cast_value(ctx, given[setting.param])
            except click.BadParameter:  # click says so, naming the option, as it parses
                continue
    choice.set_aside = set_aside(values, on_command_line, defaults)
    choice.profile = resolved
    ctx.default_map = {
        **(ctx.default_map or {}),
        **{BY_KEY[key].param: value for key, value in values.items() if key not in choice.set_aside},
    }


def chosen_profile(ctx: click.Context) -> ResolvedProfile | None:
    """The profile ``--profile`` chose for this command (None without one), for a record of the run."""
    choice: ProfileChoice | None = ctx.meta.get(_META)
    return choice.profile if choice is not None else None


def run_defaults(ctx: click.Context, command: click.Command) -> dict[str, Any]:
    """The default of each setting of ``command``, by profile key (None for one without a default)."""
    params = _params(command)
    return {s.key: _plain(params[s.param].get_default(ctx)) for s in SETTINGS if s.param in params}


def checked_for(ctx: click.Context, command: click.Command, resolved: ResolvedProfile) -> dict[str, Any]:
    """The profile's settings as ``command``'s options take them, by key; :class:`ConfigError` naming the profile
    for a setting the command has no option for, or a value its option refuses (an unknown target...)."""
    params = _params(command)
    values = {}
    for key, written in resolved.settings.items():
        setting, where = BY_KEY[key], resolved.origins[key].where
        param = params.get(setting.param)
        if param is None:
            raise ConfigError(
                f"{key}: this s1sr run has no {setting.option} option", where, "remove it, or update s1sr"
            )
        value = setting.option_value(written)
        several = isinstance(param, click.Option) and param.multiple
        if several and isinstance(value, str):
            value = [value]  # one value of an option that may be given several times
        elif not several and isinstance(value, list):
            raise ConfigError(f"{key} takes one value, not a list", where)
        try:
            values[key] = param.type_cast_value(ctx, value)
        except click.BadParameter as exc:
            raise ConfigError(f"{key} = {toml_value(written)}: {' '.join(exc.message.split())}", where) from None
    return values


def config_lines(ctx: click.Context, choice: ProfileChoice) -> list[str]:
    """The settings of the run, one a line: ``key = value`` and, aligned after ``#``, where it comes from."""
    params = _params(ctx.command)
    values = {s.key: _value(ctx, params[s.param], choice) for s in SETTINGS if s.param in params}
    rows = []
    for setting in SETTINGS:
        if setting.key not in values:
            continue
        value, source = values[setting.key], _source(ctx, setting.key, setting.param, choice)
        if setting.kind == TABLE and isinstance(value, list | tuple):  # KEY=VALUE items, shown as a table
            value = dict(item.partition("=")[::2] for item in value)
        archive_off = setting.key == "archive_dir" and values.get("no_archive")
        if value in (None, (), []) and setting.key in _FOUND_ELSEWHERE and not archive_off:
            value, source = _FOUND_ELSEWHERE[setting.key](source)
        rows.append((setting.key, value, source))
    for name, param in params.items():  # options of the run that are not kept in profiles (--force, --rerun...)
        if name not in _NOT_SETTINGS and name not in {s.param for s in SETTINGS} and isinstance(param, click.Option):
            rows.append((name, _value(ctx, param, choice), _source(ctx, name, name, choice)))
    if ctx.meta.get("pytest_args"):
        rows.append(("pytest_args", list(ctx.meta["pytest_args"]), "command line, after --"))
    shown = [(f"{key} = {_shown(value)}", source) for key, value, source in rows]
    width = min(max(len(left) for left, _ in shown), 60)
    if choice.profile is None:
        head = "# s1sr run settings: no profile (--profile NAME chooses one; s1sr profiles lists them)"
    else:
        chain = choice.profile.chain
        head = f"# s1sr run settings: profile {chain[0].name}, {chain[0].where}"
        head += "".join(f"; extends {p.name}, {p.where}" for p in chain[1:])
    return [head, *(f"{left:<{width}}  # {source}" for left, source in shown)]


def _schema(source: str) -> tuple[Any, str]:
    """The DUIS schema a run given no ``--xsd`` uses, and where it is named."""
    from s1sr.duis.schema import find_schema

    found = find_schema(None, Path.cwd())
    return (str(found.path), found.source) if found.path is not None else (None, f"{source}: schema validation off")


def _archive(source: str) -> tuple[Any, str]:
    """The archive a run given no ``--archive-dir`` (nor ``--no-archive``) is kept in, and where it is named."""
    from s1sr.archive.store import ARCHIVE_DIR_ENV, archive_folder

    return str(archive_folder(None)), ARCHIVE_DIR_ENV if os.environ.get(ARCHIVE_DIR_ENV) else source


def _dmcs(source: str) -> tuple[Any, str]:
    """The DMCs a run given no ``--dmc`` runs on."""
    from s1sr.catalogue import default_dmcs

    return default_dmcs(), f"{source}: the default DMCs"


#: Settings that a run not given them finds elsewhere (the environment, pyproject.toml, the catalogue).
_FOUND_ELSEWHERE: dict[str, Callable[[str], tuple[Any, str]]] = {
    "xsd": _schema,
    "archive_dir": _archive,
    "dmcs": _dmcs,
}


def _value(ctx: click.Context, param: click.Parameter, choice: ProfileChoice) -> Any:
    """The value ``param`` has in this run (click passes the command only the options it exposes)."""
    assert param.name is not None
    if param.name in ctx.params:
        return ctx.params[param.name]
    source = ctx.get_parameter_source(param.name)
    if source is ParameterSource.COMMANDLINE:
        return param.type_cast_value(ctx, choice.given[param.name])
    if source is ParameterSource.DEFAULT_MAP and ctx.default_map is not None:
        return param.type_cast_value(ctx, ctx.default_map[param.name])
    return _plain(param.get_default(ctx))


def _source(ctx: click.Context, key: str, name: str, choice: ProfileChoice) -> str:
    source = ctx.get_parameter_source(name)
    if source is ParameterSource.COMMANDLINE:
        return "command line"
    if source is ParameterSource.DEFAULT_MAP and choice.profile is not None and key in choice.profile.settings:
        return choice.profile.origin(key)
    if source is ParameterSource.ENVIRONMENT:
        return "environment"
    if choice.profile is not None and key in choice.set_aside:
        by, held = BY_KEY[choice.set_aside[key]].option, choice.profile.origins[key].name
        return f"default ({by} on the command line sets aside profile {held}'s value)"
    return "default"


def _shown(value: Any) -> str:
    if value is None:
        return "(not set)"
    return toml_value(value)


def _plain(value: Any) -> Any:
    """``value``, or None for click's marker of a value not set (click 8.2 and later; earlier ones give None)."""
    return value if isinstance(value, str | int | float | bool | tuple | list | dict | Path) else None


def _params(command: click.Command) -> dict[str, click.Parameter]:
    return {p.name: p for p in command.params if p.name}


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
def profiles(ctx: click.Context, as_json: bool) -> None:
    """List the run profiles that s1sr run --profile NAME can name, with their files, and check each.

    They are read from the nearest folder, from here upwards, that holds a pyproject.toml
    ([tool.s1sr.profiles.NAME] tables) or an s1sr.toml ([profiles.NAME] tables). A profile with an unknown
    key, a value of the wrong type, or an extends that cannot be followed is one line, exit code 2.
    """
    found = load_profiles(Path.cwd())
    run = main.get_command(ctx, "run")
    assert run is not None
    run_ctx = click.Context(run, info_name="run", parent=ctx)
    resolved = [found.resolve(name, run_defaults(run_ctx, run)) for name in found.names()]
    for profile in resolved:
        checked_for(run_ctx, run, profile)
    if as_json:
        out.print(json.dumps(_as_json(found, resolved), indent=2), markup=False)
        return
    if not resolved:
        out.print(
            f"no profiles: {found.described()}; add [tool.s1sr.profiles.NAME] to pyproject.toml "
            "or [profiles.NAME] to s1sr.toml (see docs/profiles.md)",
            markup=False,
        )
        return
    out.print(f"profiles in {' and '.join(str(f) for f in found.files)}:", markup=False)
    width = max(len(p.name) for p in resolved)
    for p in resolved:
        extends = f"; extends {p.profile.extends}" if p.profile.extends else ""
        own = [key for key in p.settings if p.origins[key] is p.profile]
        sets = f"sets {', '.join(own)}" if own else "sets nothing of its own"
        out.print(f"{p.name:<{width}}  {p.profile.where}{extends}; {sets}", markup=False)


def _as_json(found: ProfileSet, resolved: list[ResolvedProfile]) -> dict[str, Any]:
    return {
        "searched_from": str(found.searched_from),
        "files": [str(f) for f in found.files],
        "profiles": [
            {
                "name": p.name,
                "file": str(p.profile.file),
                "table": p.profile.table,
                "extends": p.profile.extends,
                "settings": p.settings,
                "from": {key: p.origin(key) for key in p.settings},
            }
            for p in resolved
        ],
    }
