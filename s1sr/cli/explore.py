"""``s1sr translate`` and ``s1sr validate``: one DUIS document at a time, for people exploring."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from s1sr.catalogue import DEFAULT_VERSION
from s1sr.cli.app import err, main, out, write_output


@main.command()
@click.argument("request_file", type=click.Path(path_type=Path))
@click.option("--dmc", default=None, help="Device Model Combination (default: secure-esme, or secure-gsme for gas).")
@click.option("--s1sr-version", default=DEFAULT_VERSION, show_default=True)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the SMETS1 Response here.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary instead of tables.")
@click.option("--xsd", default=None, help="Validate request and response against this DUIS schema.")
def translate(
    request_file: Path,
    dmc: str | None,
    s1sr_version: str,
    out_file: Path | None,
    as_json: bool,
    xsd: str | None,
) -> None:
    """Send one DUIS request through the reference S1SP to a fresh simulated device."""
    from s1sr.translate import render_translation, translate_file

    result = translate_file(request_file, dmc, s1sr_version, xsd)
    if out_file is not None:
        write_output(out_file, result.response_xml)
    if as_json:
        out.print(json.dumps(result.as_dict(), indent=2), markup=False)
    else:
        render_translation(result, out)
        if out_file is not None:
            out.print(f"SMETS1 Response written to {out_file}", markup=False)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--xsd", default=None, help="DUIS schema (else S1SR_DUIS_XSD, else [tool.s1sr] duis_xsd).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def validate(files: tuple[Path, ...], xsd: str | None, as_json: bool) -> None:
    """Validate DUIS Requests and Responses against the DUIS schema.

    Exit code 0: all valid; 1: any invalid; 2: a file or the schema could not be read.
    """
    from s1sr.validation import validate_files

    report = validate_files(list(files), xsd)
    if as_json:
        out.print(json.dumps(report.as_dict(), indent=2), markup=False)
    else:
        for item in report.items:
            if item.valid:
                out.print(f"valid    {item.path}", markup=False)
            else:
                out.print(f"INVALID  {item.path}", markup=False)
                for problem in item.problems:
                    out.print(f"         {problem}", markup=False)
        counts = f"{report.valid_count} valid, {report.invalid_count} invalid, {len(report.unreadable)} unreadable"
        out.print(f"{counts} (schema: {report.xsd})", markup=False)
    if report.unreadable:
        for line in report.unreadable:
            err.print(f"s1sr: error: {line}", markup=False)
        sys.exit(2)
    sys.exit(0 if report.invalid_count == 0 else 1)
