"""The ``s1sr`` command group: its consoles, its one-line errors, and the options several commands share."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from s1sr import __version__
from s1sr.errors import ConfigError, InputError, S1srError


def _console(stderr: bool = False) -> Console:
    console = Console(stderr=stderr, highlight=False, soft_wrap=True)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 132  # logs and CI: wide enough for the clause table
    return console


out = _console()


err = _console(stderr=True)


class S1srGroup(click.Group):
    """Turns every :class:`S1srError` and every usage error into one line and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand; report user errors in one line."""
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:  # an unknown option, a bad value, a stray argument: click's words, one line
            where = exc.ctx.command_path if exc.ctx is not None else "s1sr"
            message = " ".join(exc.format_message().split())
            err.print(f"s1sr: error: {where}: {message}; see {where} --help", markup=False)
            sys.exit(2)
        except S1srError as exc:
            err.print(f"s1sr: error: {exc.line()}", markup=False)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            err.print("s1sr: interrupted", markup=False)
            sys.exit(130)


FEATURES_OPTION = click.option(
    "--features", "feature_dirs", multiple=True, type=click.Path(path_type=Path), help="Feature folder (repeatable)."
)


def _use_catalogue(ctx: click.Context, param: click.Parameter, value: Path | None) -> None:
    """Make ``value`` the catalogue folder of this process and of every process it starts."""
    if value is None:
        return
    from s1sr.catalogue import CATALOGUE_DIR_ENV

    folder = value.resolve()
    if not folder.is_dir() or not any(folder.glob("s1sr-*.toml")):
        raise ConfigError(
            "names no catalogue folder (one holding s1sr-<version>.toml files)",
            f"--catalogue {value}",
            "name a folder laid out as s1sr/catalogue/data",
        )
    os.environ[CATALOGUE_DIR_ENV] = str(folder)


#: ``--catalogue DIR``: the clause catalogue read instead of the shipped one (a corrected reading, or a test one).
CATALOGUE_OPTION = click.option(
    "--catalogue",
    type=click.Path(file_okay=False, path_type=Path),
    callback=_use_catalogue,
    is_eager=True,
    expose_value=False,
    help="Catalogue folder (s1sr-<version>.toml, optionally device-models.toml, outcomes.toml) to use "
    "instead of the shipped one.",
)


@click.group(cls=S1srGroup, invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="s1sr")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Conformance harness for the SMETS1 Supporting Requirements (S1SR), Secure cohort."""
    if ctx.invoked_subcommand is None:  # a bare `s1sr` asks what it can do: the help, and success
        click.echo(ctx.get_help())


def write_output(path: Path, data: bytes) -> None:
    """Write an output file atomically into an existing folder; one-line error otherwise."""
    from s1sr.report.files import write_atomically

    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError("folder does not exist", str(folder), "create it or choose another --out")
    try:
        write_atomically(path, data)
    except OSError as exc:
        raise InputError(f"cannot write ({exc.strerror})", str(path)) from None
