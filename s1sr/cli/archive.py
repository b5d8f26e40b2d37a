"""``s1sr runs``, ``export``, ``verify-export``, ``compare``; and ``s1sr run``'s archive options.

``s1sr run`` takes ``--archive-dir DIR``, ``--no-archive`` and ``--rerun RUN`` through
:func:`archive_options` and :func:`with_archive`, so the run command itself only names them.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from click.core import ParameterSource

from s1sr.cli.app import err, main, out
from s1sr.errors import ConfigError

if TYPE_CHECKING:
    from s1sr.runner import RunOptions

F = TypeVar("F", bound=Callable[..., Any])
_META = "s1sr.archive"

ARCHIVE_DIR_OPTION = click.option(
    "--archive-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The archive of runs (default: $S1SR_ARCHIVE_DIR, else s1sr-runs/ in the working folder).",
)


def _keep(ctx: click.Context, param: click.Parameter, value: Any) -> None:
    """Keep an archive option of ``s1sr run`` aside: the run command does not take it as an argument."""
    assert param.name is not None
    ctx.meta.setdefault(_META, {})[param.name] = value


def archive_options(command: F) -> F:
    """``--archive-dir``, ``--no-archive`` and ``--rerun`` on ``s1sr run``."""
    for option in (
        click.option(
            "--rerun",
            default=None,
            metavar="RUN",
            expose_value=False,
            callback=_keep,
            help="Run only the failed, error and not-run scenarios of an archived run (id, id prefix, name or path), "
            "with its settings unless options here say otherwise.",
        ),
        click.option(
            "--no-archive",
            is_flag=True,
            expose_value=False,
            callback=_keep,
            help="Do not keep this run in the archive.",
        ),
        click.option(
            "--archive-dir",
            type=click.Path(file_okay=False, path_type=Path),
            default=None,
            expose_value=False,
            callback=_keep,
            help="Keep the run here (default: $S1SR_ARCHIVE_DIR, else s1sr-runs/ in the working folder).",
        ),
    ):
        command = option(command)
    return command


def with_archive(ctx: click.Context, options: RunOptions) -> RunOptions:
    """``options`` with the archive request and, for ``--rerun``, the run's recorded settings and scenarios.

    Exits 0 with one line when a re-run has nothing to run (nothing is archived).
    """
    from s1sr.archive.recorder import ArchiveRequest
    from s1sr.archive.rerun import plan_rerun
    from s1sr.archive.store import archive_folder, find_run

    meta: dict[str, Any] = ctx.meta.get(_META, {})
    given_dir: Path | None = meta.get("archive_dir")
    if meta.get("no_archive") and given_dir is not None:
        raise ConfigError(
            "is for a run that is archived, and --no-archive says not to",
            f"--archive-dir {given_dir}",
            "leave out one of them",
        )
    folder = archive_folder(given_dir)
    rerun_of = None
    if meta.get("rerun") is not None:
        plan = plan_rerun(find_run(str(meta["rerun"]), folder))
        if not plan.scenarios:
            out.print(plan.nothing_to_do(), markup=False)
            sys.exit(0)
        given = {p.name for p in ctx.command.params if p.name and _given(ctx, p.name)}
        options = plan.apply(options, given)
        if not options.nodeids:
            out.print(
                f"run {plan.run.name}: none of its {len(plan.scenarios)} scenario(s) to re-run is on "
                f"{', '.join(options.dmcs)}: nothing to re-run",
                markup=False,
            )
            sys.exit(0)
        rerun_of = {"id": plan.run.id, "name": plan.run.name}
    if meta.get("no_archive"):
        return options
    command_line = tuple(ctx.meta.get("command_line") or ())
    return dataclasses.replace(options, archive=ArchiveRequest(folder, command_line, rerun_of))


def _given(ctx: click.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source is not ParameterSource.DEFAULT


@main.command()
@ARCHIVE_DIR_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def runs(archive_dir: Path | None, as_json: bool) -> None:
    """List the archived runs, newest first: when, id, verdict, counts, and what was tested."""
    from rich import box
    from rich.table import Table

    from s1sr.archive.recorder import abandoned
    from s1sr.archive.store import archive_folder, list_runs

    folder = archive_folder(archive_dir)
    found, problems = list_runs(folder)
    for line in problems:
        err.print(f"s1sr: warning: {line}", markup=False)
    for left in abandoned(folder):
        err.print(
            f"s1sr: warning: {left}: a run that was killed, or could not be archived, left this; "
            f"s1sr report {left / 'journal.jsonl'} renders what it finished",
            markup=False,
        )
    if as_json:
        rows = [
            {
                "name": r.name,
                "id": r.id,
                "folder": str(r.folder),
                **{
                    key: r.manifest.get(key)
                    for key in (
                        "started",
                        "finished",
                        "verdict",
                        "exit_code",
                        "interrupted",
                        "summary",
                        "s1sr_version",
                        "dmc",
                        "adapter",
                        "target",
                        "s1sp",
                        "target_url",
                        "rerun_of",
                    )
                },
            }
            for r in found
        ]
        out.print(json.dumps(rows, indent=2), markup=False)
        return
    if not found:
        out.print(f"no runs in {folder}", markup=False)
        return
    table = Table(title=f"runs in {folder}", box=box.SIMPLE_HEAD, collapse_padding=True, pad_edge=False)
    table.add_column("started (UTC)", no_wrap=True)
    table.add_column("id", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("counts", no_wrap=True)
    table.add_column("tested")
    for r in found:
        tested = r.what_was_tested()
        if r.manifest.get("rerun_of"):
            tested += f"; re-run of {r.manifest['rerun_of'].get('id')}"
        verdict = str(r.manifest["verdict"]) + (" (interrupted)" if r.manifest.get("interrupted") else "")
        table.add_row(str(r.manifest["started"]).replace("+00:00", "Z"), r.id, verdict, r.counts(), tested)
    out.print(table)


@main.command()
@click.argument("run_ref", metavar="RUN")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The .zip.")
@ARCHIVE_DIR_OPTION
def export(run_ref: str, out_file: Path, archive_dir: Path | None) -> None:
    """Write an archived run (id, id prefix, folder name or path) as one zip an auditor keeps.

    The run's folder is checked against its manifest first: exit code 1, naming each file, when it
    changed since the run (nothing written); 2 for a run that is not found.
    """
    from s1sr.archive.export import export_run, folder_differences
    from s1sr.archive.store import archive_folder, find_run

    run = find_run(run_ref, archive_folder(archive_dir))
    differences = folder_differences(run)
    if differences:
        for difference in differences:
            out.print(difference.line(), markup=False)
        err.print(
            f"s1sr: error: {run.folder}: {len(differences)} file(s) no longer match the run's manifest; "
            "nothing exported",
            markup=False,
        )
        sys.exit(1)
    members = export_run(run, out_file)
    out.print(f"export: {out_file} (run {run.name}, {len(members)} files)", markup=False)


@main.command("verify-export")
@click.argument("zip_file", metavar="FILE.zip", type=click.Path(dir_okay=False, path_type=Path))
def verify_export(zip_file: Path) -> None:
    """Check every file of an export against its manifest's SHA-256.

    Exit code 0 when all match; 1 naming each file that differs, is missing or is extra; 2 for a file that
    is not an s1sr run export (or breaks its bounds: members, sizes, paths, links).
    """
    from s1sr.archive.export import verify_export as verify

    result = verify(zip_file)
    run = f"{result.manifest['name']} ({result.manifest['verdict']}, S1SR {result.manifest['s1sr_version']})"
    for difference in result.differences:
        out.print(difference.line(), markup=False)
    if result.differences:
        out.print(f"{zip_file}: {len(result.differences)} file(s) do not match the manifest of run {run}", markup=False)
        sys.exit(1)
    out.print(f"{zip_file}: all {result.checked} files match the manifest of run {run}", markup=False)


@main.command()
@click.argument("run_a", metavar="RUN_A")
@click.argument("run_b", metavar="RUN_B")
@ARCHIVE_DIR_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def compare(run_a: str, run_b: str, archive_dir: Path | None, as_json: bool) -> None:
    """List every scenario whose verdict changed from RUN_A to RUN_B: regressions first, then fixes.

    Then other changes, scenarios new in RUN_B, and scenarios RUN_B no longer has. Scenarios are matched
    by id and DMC. Exit code 1 when a scenario that passed in RUN_A does not pass in RUN_B, else 0;
    2 for a run that is not found.
    """
    from s1sr.archive.compare import GROUPS, compare_runs
    from s1sr.archive.store import archive_folder, find_run

    folder = archive_folder(archive_dir)
    a, b = find_run(run_a, folder), find_run(run_b, folder)
    result = compare_runs(a, b)
    if as_json:
        out.print(json.dumps(result.as_dict(), indent=2), markup=False)
        sys.exit(result.exit_code())
    if result.versions_differ:
        out.print(
            f"note: the runs are of different S1SR versions (A {result.a['s1sr_version']}, "
            f"B {result.b['s1sr_version']}): scenarios are matched by id and DMC all the same",
            markup=False,
        )
    for label, about in (("A", result.a), ("B", result.b)):
        summary = ", ".join(f"{n} {v}" for v, n in about["summary"].items() if n) or "no scenario"
        out.print(f"{label}: {about['name']} {about['verdict']} ({summary}); {about['tested']}", markup=False)
    titles = {"regressions": "REGRESSION", "fixes": "FIXED", "changes": "CHANGED", "new": "NEW", "removed": "REMOVED"}
    for group in GROUPS:
        for change in getattr(result, group):
            where = f"{', '.join(change.clauses) or '(no clause)'} [{change.dmc}] {change.name}"
            moved = f"{change.before or 'absent'} -> {change.after or 'absent'}"
            out.print(f"{titles[group]} {where}: {moved}", markup=False)
            if change.reason and change.after not in (None, "passed"):
                out.print(f"    {change.reason}", markup=False)
    counts = [f"{len(getattr(result, group))} {group}" for group in GROUPS]
    out.print(", ".join(counts).replace("changes", "other changes"), markup=False)
    sys.exit(result.exit_code())
