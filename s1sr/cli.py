"""The ``s1sr`` command: run the clause suite, translate one request, list clauses, validate DUIS."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from s1sr import __version__
from s1sr.catalogue import DEFAULT_VERSION, Catalogue, load_catalogue, versions
from s1sr.errors import InputError, S1srError


def _console(stderr: bool = False) -> Console:
    console = Console(stderr=stderr, highlight=False, soft_wrap=True)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = 132  # logs and CI: wide enough for the clause table
    return console


out = _console()
err = _console(stderr=True)


class S1srGroup(click.Group):
    """Turns every :class:`S1srError` into one line and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the subcommand; report user errors in one line."""
        try:
            return super().invoke(ctx)
        except S1srError as exc:
            err.print(f"s1sr: error: {exc.line()}", markup=False)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            err.print("s1sr: interrupted", markup=False)
            sys.exit(130)


FEATURES_OPTION = click.option(
    "--features", "feature_dirs", multiple=True, type=click.Path(path_type=Path), help="Feature folder (repeatable)."
)


@click.group(cls=S1srGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="s1sr")
def main() -> None:
    """Conformance harness for the SMETS1 Supporting Requirements (S1SR), Secure cohort."""


# --- s1sr run --------------------------------------------------------------------------


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--s1sr-version", default=DEFAULT_VERSION, show_default=True, help="S1SR version to test against.")
@click.option("--dmc", "dmcs", multiple=True, help="Device Model Combination (repeatable; default: the default DMCs).")
@click.option("--clause", "clauses", multiple=True, help="Run only scenarios of this clause (repeatable).")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path), help="Write results.json here.")
@FEATURES_OPTION
@click.option("--xsd", default=None, help="DUIS schema (else S1SR_DUIS_XSD, else [tool.s1sr] duis_xsd).")
@click.option("--timeout", default=30.0, show_default=True, help="Seconds allowed per device command.")
@click.option("--adapter", default="simulated", show_default=True, help="Device adapter: name or module:attr.")
@click.option("--adapter-option", "adapter_options", multiple=True, help="KEY=VALUE for the adapter (repeatable).")
@click.option("--device-url", default=None, help="Endpoint of the remote adapter (same as --adapter-option url=...).")
@click.option("--s1sp", default="reference", show_default=True, help="S1SP under test: name or module:attr.")
@click.option(
    "--s1sp-version", default=None, help="S1SR version whose rules the S1SP applies (default: --s1sr-version)."
)
@click.option(
    "--signing-key", type=click.Path(path_type=Path), help="PEM P-256 key to sign responses (default: generated)."
)
@click.option("--signing-cert", type=click.Path(path_type=Path), help="PEM certificate of --signing-key.")
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def run(
    s1sr_version: str,
    dmcs: tuple[str, ...],
    clauses: tuple[str, ...],
    report_dir: Path | None,
    feature_dirs: tuple[Path, ...],
    xsd: str | None,
    timeout: float,
    adapter: str,
    adapter_options: tuple[str, ...],
    device_url: str | None,
    s1sp: str,
    s1sp_version: str | None,
    signing_key: Path | None,
    signing_cert: Path | None,
    pytest_args: tuple[str, ...],
) -> None:
    """Run the clause scenarios against the reference S1SP and the simulated devices.

    Extra arguments go to pytest (for example ``-k 'JoinTimePeriod'``).
    Exit code 0: every applicable scenario passed; 1: a non-conformance or error; 2: bad usage.
    """
    from s1sr.runner import RunOptions, run_suite

    options = RunOptions(
        version=s1sr_version,
        dmcs=list(dmcs),
        clauses=list(clauses),
        report_dir=report_dir,
        feature_dirs=list(feature_dirs),
        xsd=xsd,
        timeout_s=timeout,
        pytest_args=list(pytest_args),
        signing_key=signing_key,
        signing_cert=signing_cert,
        adapter=adapter,
        adapter_options=list(adapter_options) + ([f"url={device_url}"] if device_url else []),
        s1sp=s1sp,
        s1sp_version=s1sp_version,
    )
    sys.exit(run_suite(options, out, err))


# --- s1sr translate ----------------------------------------------------------------------


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


# --- s1sr clauses ------------------------------------------------------------------------


@main.command()
@click.option("--s1sr-version", default=DEFAULT_VERSION, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@FEATURES_OPTION
@click.option("--matrix", is_flag=True, help="Print the clause x device-model map (Annex A, DMVES).")
def clauses(s1sr_version: str, as_json: bool, feature_dirs: tuple[Path, ...], matrix: bool) -> None:
    """List the clauses of an S1SR version, their provenance and how many scenarios exercise each."""
    from rich.table import Table

    from s1sr.bundle import features_dir
    from s1sr.features_index import scenario_counts

    catalogue = load_catalogue(s1sr_version)
    if matrix:
        print_matrix(catalogue, as_json)
        return
    counts = scenario_counts(list(feature_dirs) or [features_dir()])
    rows: list[dict[str, Any]] = [
        {
            "id": c.id,
            "title": c.title,
            "srvs": list(c.srvs),
            "provenance": c.provenance,
            "detail_provenance": c.detail_provenance,
            "device_models": list(c.device_models),
            "scenarios": counts.get(c.id, 0),
            "reading": c.reading,
        }
        for c in catalogue.clauses
    ]
    if as_json:
        out.print(json.dumps(rows, indent=2), markup=False)
        return
    table = Table(title=f"S1SR {catalogue.version} ({catalogue.status}): Secure clauses")
    for column in ("clause", "title", "SRVs", "provenance", "detail", "scenarios"):
        table.add_column(column, justify="right" if column == "scenarios" else "left")
    for r in rows:
        table.add_row(
            r["id"],
            r["title"],
            ", ".join(r["srvs"]) or "-",
            r["provenance"],
            r["detail_provenance"],
            str(r["scenarios"]),
        )
    out.print(table)
    if catalogue.annex_c:
        annex = Table(title="Annex C defaults")
        for column in ("SRV", "command", "field", "value", "unit", "provenance"):
            annex.add_column(column)
        for d in catalogue.annex_c:
            annex.add_row(d.srv, d.command, d.field, json.dumps(d.value), d.unit or "-", d.provenance)
        out.print(annex)


def print_matrix(catalogue: Catalogue, as_json: bool) -> None:
    """The clause x device-model applicability map of one version."""
    from rich.table import Table

    from s1sr.catalogue import device_models

    models = [m for m in device_models().values() if m.device_type != "CHF"]
    rows = {c.id: {m.id: c.applies_to(m.id) for m in models} for c in catalogue.clauses}
    if as_json:
        out.print(json.dumps({"s1sr_version": catalogue.version, "matrix": rows}, indent=2), markup=False)
        return
    table = Table(title=f"S1SR {catalogue.version}: clauses by device model (Annex A); x applies, - not applicable")
    table.add_column("clause")
    for m in models:
        table.add_column(f"{m.id}\n{m.device_type}", justify="center")
    for clause_id, row in rows.items():
        table.add_row(clause_id, *("x" if row[m.id] else "-" for m in models))
    out.print(table)


# --- s1sr validate -----------------------------------------------------------------------


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
        out.print(f"{report.valid_count} valid, {report.invalid_count} invalid (schema: {report.xsd})", markup=False)
    if report.unreadable:
        for line in report.unreadable:
            err.print(f"s1sr: error: {line}", markup=False)
        sys.exit(2)
    sys.exit(0 if report.invalid_count == 0 else 1)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def adapters(as_json: bool) -> None:
    """List the device adapters that can be named with --adapter."""
    from dataclasses import asdict

    from s1sr.devices.registry import available_adapters

    found = available_adapters()
    if as_json:
        out.print(json.dumps([asdict(a) for a in found], indent=2), markup=False)
        return
    for a in found:
        models = ", ".join(a.device_models) or "any device model"
        out.print(f"{a.name:<12} {models:<40} {a.source}  {a.description}", markup=False)


@main.command(name="serve-device")
@click.option("--dmc", required=True, help="Device Model Combination to simulate.")
@click.option("--port", default=8765, show_default=True, help="TCP port (0 picks a free one).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--adapter-option", "adapter_options", multiple=True, help="KEY=VALUE, e.g. fault=no-response.")
def serve_device(dmc: str, port: int, host: str, adapter_options: tuple[str, ...]) -> None:
    """Expose a simulated Secure DMC over the remote adapter's JSON-over-HTTP protocol."""
    from s1sr.catalogue import find_dmc
    from s1sr.devices.server import make_server
    from s1sr.devices.simulated import SimulatedAdapter
    from s1sr.plugin import parse_options

    adapter = SimulatedAdapter.create(find_dmc(dmc), parse_options(list(adapter_options)))
    try:
        server = make_server(adapter, host, port)
    except OSError as exc:
        raise InputError(f"cannot listen ({exc.strerror})", f"{host}:{port}", "choose another --port") from None
    out.print(f"serving DMC {dmc} on http://{host}:{server.server_port} (Ctrl-C to stop)", markup=False)
    sys.stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@main.command()
@click.argument("a")
@click.argument("b")
@click.option("--dmc", "dmcs", multiple=True, help="Device Model Combination (repeatable; default: the default DMCs).")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path), help="Write diff.json, diff.md, runs.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--xsd", default=None, help="DUIS schema for the runs (else S1SR_DUIS_XSD, else pyproject).")
def diff(a: str, b: str, dmcs: tuple[str, ...], report_dir: Path | None, as_json: bool, xsd: str | None) -> None:
    """Compare two S1SR versions: clauses added or changed, Annex C, and behaviours that differ."""
    from rich.table import Table

    from s1sr.catalogue import default_dmcs, find_dmc
    from s1sr.diff import version_diff, what_differs, write_diff

    load_catalogue(a), load_catalogue(b)
    for name in dmcs:
        find_dmc(name)
    work = report_dir / "runs" if report_dir is not None else None
    result = version_diff(a, b, list(dmcs) or default_dmcs(), xsd, work)
    if report_dir is not None:
        write_diff(result, report_dir)
    if as_json:
        out.print(json.dumps(result.as_dict(), indent=2), markup=False)
        return
    table = Table(title=f"S1SR {a} -> {b} on {', '.join(result.dmc)}")
    for column in ("clause", "title", "status", "what differs"):
        table.add_column(column)
    for c in result.clauses:
        table.add_row(c.id, c.title, c.status, what_differs(result, c))
    out.print(table)
    for d in result.annex_c_added:
        out.print(f"Annex C added: SRV {d['srv']} {d['command']}.{d['field']} = {json.dumps(d['value'])}", markup=False)
    for d in result.annex_c_removed:
        out.print(f"Annex C removed: SRV {d['srv']} {d['command']}.{d['field']}", markup=False)
    for d in result.annex_c_changed:
        out.print(f"Annex C changed: SRV {d['b']['srv']} {d['b']['command']}.{d['b']['field']}", markup=False)


@main.command()
@click.option("--report-dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Report folder.")
@click.option("--s1sr-version", default=DEFAULT_VERSION, show_default=True)
@click.option("--xsd", default=None, help="DUIS schema for the run, when one is needed.")
def consultation(report_dir: Path, s1sr_version: str, xsd: str | None) -> None:
    """Write consultation.docx and consultation.md: per question, the clauses, readings and last verdicts.

    Uses REPORT_DIR/results.json when it holds a run of the same S1SR version; otherwise runs the suite first.
    """
    import subprocess

    from s1sr.report.consultation import build_pack, pack_docx, pack_markdown
    from s1sr.report.files import write_atomically

    catalogue = load_catalogue(s1sr_version)
    results_file = report_dir / "results.json"
    results: dict[str, Any] = {}
    if results_file.is_file():
        try:
            results = json.loads(results_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read results.json ({exc})", str(results_file), "run s1sr run again") from None
    if results.get("s1sr_version") != s1sr_version:
        out.print(f"no S1SR {s1sr_version} run in {report_dir}: running the suite first", markup=False)
        args = [sys.executable, "-m", "s1sr", "run", "--s1sr-version", s1sr_version, "--report-dir", str(report_dir)]
        if xsd:
            args += ["--xsd", xsd]
        done = subprocess.run(args, capture_output=True, text=True)
        if done.returncode not in (0, 1):
            raise InputError("the run for the pack failed", "consultation", done.stderr.strip()[-200:])
        results = json.loads(results_file.read_text(encoding="utf-8"))
    pack = build_pack(catalogue, results)
    write_atomically(report_dir / "consultation.md", pack_markdown(pack).encode("utf-8"))
    write_atomically(report_dir / "consultation.docx", pack_docx(pack))
    out.print(
        f"consultation pack: {report_dir / 'consultation.docx'} and {report_dir / 'consultation.md'}", markup=False
    )


@main.command(name="versions")
def list_versions() -> None:
    """List the S1SR versions that have a catalogue."""
    for version in versions():
        catalogue = load_catalogue(version)
        out.print(f"{version}  {catalogue.status}  ({len(catalogue.clauses)} clauses)", markup=False)


@main.command()
def dmcs() -> None:
    """List the Device Model Combinations."""
    from s1sr.catalogue import dmcs as all_dmcs

    for dmc in all_dmcs().values():
        default = " (default)" if dmc.default else ""
        out.print(f"{dmc.id}{default}: {dmc.meter.model} behind {dmc.comms_hub.model}", markup=False)
