"""``s1sr report``: the report set of a record rebuilt from run journals (a killed run's, or one run's shards)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from s1sr.cli.app import err, main, out


@main.command()
@click.argument("journals", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Publish index.html, results.json, junit.xml and cucumber.json here, as one set.",
)
@click.option(
    "--allow-mixed",
    is_flag=True,
    help="Merge journals of different s1sr, S1SR versions, catalogues, feature sets or S1SPs.",
)
@click.option(
    "--waivers",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Deviation register to judge the record with, instead of the one the run had (judged on today's date).",
)
def report(journals: tuple[Path, ...], report_dir: Path | None, allow_mixed: bool, waivers: Path | None) -> None:
    """Merge run journals into one record: print its table, publish its reports, exit with its verdict.

    JOURNAL is what `s1sr run` wrote (--journal FILE, or .DIR.s1sr-journal.jsonl beside --report-dir DIR);
    give every shard's journal to merge the shards of one run. A scenario id in two journals' runs is refused.
    The deviation register the run had (s1sr run --waivers) applies again, judged on today's date;
    --waivers FILE applies another instead.
    Exit code 0 CONFORMANT, 1 NOT CONFORMANT, 3 INCONCLUSIVE, 130 a run was interrupted or killed (its
    unfinished scenarios are not run), 2 journals that cannot be read or merged (nothing written).
    """
    from s1sr.report.waivers import load_waivers
    from s1sr.report.writer import report_journals
    from s1sr.runner import render_summary

    register = load_waivers(waivers) if waivers is not None else None
    merged, catalogue = report_journals(list(journals), report_dir, allow_mixed=allow_mixed, waivers=register)
    render_summary(merged.record, catalogue, out)
    for line in merged.warnings:
        err.print(f"s1sr: warning: {line}", markup=False)
    if report_dir is not None:
        out.print(f"report: {report_dir / 'index.html'} (and results.json, junit.xml, cucumber.json)", markup=False)
    if merged.record.interrupted:
        out.print("a run was interrupted: scenarios that did not finish are reported as not run", markup=False)
    sys.exit(merged.record.exit_code())
