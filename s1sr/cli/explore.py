"""``s1sr translate``, ``validate`` and ``coverage``: DUIS documents through the S1SP and against the schema."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from s1sr.catalogue import DEFAULT_VERSION
from s1sr.cli.app import err, main, out, write_output
from s1sr.errors import InputError


@main.command()
@click.argument("request_files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--dmc",
    default=None,
    help="Device Model Combination (default: from the target device: secure-gsme for a GSME or GPF, else secure-esme).",
)
@click.option("--s1sr-version", default=DEFAULT_VERSION, show_default=True)
@click.option(
    "--state",
    "state_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML file: the estate's starting state (payment mode, balances, a firmware image held).",
)
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="KEY=VALUE",
    help="One key of the starting state, e.g. payment_mode=prepayment (repeatable; wins over --state).",
)
@click.option(
    "--out",
    "out_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the SMETS1 Response here (one request).",
)
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write each SMETS1 Response into this existing folder as NN-<request name>.response.xml.",
)
@click.option(
    "--cert-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the certificate that verifies the responses' signatures here (for validate --cert).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables (an array for several requests).")
@click.option("--xsd", default=None, help="Validate requests and responses against this DUIS schema.")
def translate(
    request_files: tuple[Path, ...],
    dmc: str | None,
    s1sr_version: str,
    state_file: Path | None,
    settings: tuple[str, ...],
    out_file: Path | None,
    out_dir: Path | None,
    cert_out: Path | None,
    as_json: bool,
    xsd: str | None,
) -> None:
    """Send DUIS requests, in order, through the reference S1SP to one fresh simulated estate.

    The target device picks the DMC (--dmc overrides); a future-dated request (ExecutionDateTime)
    is refused. Exit code 0: every response reports success; 1: a response reports a failure;
    2: bad input (nothing is written).
    """
    from s1sr.estate_state import load_state
    from s1sr.translate import render_run, translate_files

    if out_file is not None and len(request_files) > 1:
        raise InputError(
            f"names one response file, and {len(request_files)} requests were given", "--out", "use --out-dir DIR"
        )
    if out_dir is not None and not out_dir.is_dir():
        raise InputError("is not an existing folder", f"--out-dir {out_dir}", "create it first")
    state = load_state(state_file, settings)
    run = translate_files(list(request_files), dmc, s1sr_version, xsd, state)
    written: list[Path] = []
    if out_file is not None:
        write_output(out_file, run.translations[0].response_xml)
        written.append(out_file)
    if out_dir is not None:
        for index, result in enumerate(run.translations, start=1):
            target = out_dir / f"{index:02d}-{Path(result.path).stem}.response.xml"
            write_output(target, result.response_xml)
            written.append(target)
    if cert_out is not None:
        write_output(cert_out, run.certificate_pem)
        written.append(cert_out)
    if as_json:
        documents = run.documents()
        out.print(json.dumps(documents[0] if len(documents) == 1 else documents, indent=2), markup=False)
    else:
        render_run(run, out)
        for path in written:
            out.print(f"written: {path}", markup=False)
    sys.exit(run.exit_code)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--xsd", default=None, help="DUIS schema (else S1SR_DUIS_XSD, else [tool.s1sr] duis_xsd).")
@click.option(
    "--cert",
    "certs",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Certificate (PEM or DER; a file may hold several, a folder its .pem/.crt/.cer/.der files) to check "
    "signatures with (repeatable). Without it, signatures are not checked.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def validate(files: tuple[Path, ...], xsd: str | None, certs: tuple[Path, ...], as_json: bool) -> None:
    """Validate DUIS Requests and Responses against the DUIS schema, and their signatures with --cert.

    Exit code 0: all valid; 1: any invalid; 2: a file, a certificate or the schema could not be read.
    """
    from s1sr.duis_http.trust import trusted_certificates
    from s1sr.validation import validate_files

    certificates = trusted_certificates(list(certs), "--cert") if certs else ()
    report = validate_files(list(files), xsd, certificates)
    if as_json:
        out.print(json.dumps(report.as_dict(), indent=2), markup=False)
    else:
        for item in report.items:
            out.print(f"{'valid   ' if item.valid else 'INVALID '} {item.path}", markup=False)
            for problem in item.problems:
                out.print(f"         {problem}", markup=False)
            for signature in item.signatures:
                verdict = "verifies" if signature.valid else f"INVALID: {signature.reason}"
                out.print(f"         signature of the {signature.signed}: {verdict}", markup=False)
        out.print(report.summary(), markup=False)
    if report.unreadable:
        for line in report.unreadable:
            err.print(f"s1sr: error: {line}", markup=False)
        sys.exit(2)
    sys.exit(0 if report.invalid_count == 0 else 1)


@main.command()
@click.option(
    "--rtds",
    "folder",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder of DUIS request templates (the Reference Test Data Set).",
)
@click.option("--s1sr-version", default=DEFAULT_VERSION, show_default=True, help="Version (and +PACK...) to run.")
@click.option("--xsd", default=None, help="DUIS schema (else S1SR_DUIS_XSD, else [tool.s1sr] duis_xsd).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: counts, per SRV, and per template.")
def coverage(folder: Path, s1sr_version: str, xsd: str | None, as_json: bool) -> None:
    """What the reference S1SP does with each meter template: executes it, refuses it by reading, or not yet."""
    from rich.table import Table

    from s1sr.coverage import CATEGORIES, rtds_coverage

    found = rtds_coverage(folder, s1sr_version, xsd)
    if as_json:
        out.print(json.dumps(found.as_dict(), indent=2), markup=False)
        return
    table = Table(title=f"RTDS meter templates through the reference S1SP (S1SR {s1sr_version})")
    table.add_column("SRV")
    for category in CATEGORIES:
        table.add_column(category, justify="right")
    for srv, counts in found.by_srv().items():
        table.add_row(srv, *(str(counts[c]) for c in CATEGORIES))
    table.add_row("all", *(str(v) for v in found.counts().values()), style="bold")
    out.print(table)
    out.print(f"{found.other_devices} templates address only Communications Hubs, PPMIDs or the DCC", markup=False)
