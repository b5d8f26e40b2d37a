"""``s1sr run``: the clause suite, with its options."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from s1sr.catalogue import DEFAULT_VERSION
from s1sr.cli.app import CATALOGUE_OPTION, FEATURES_OPTION, err, main, out
from s1sr.cli.archive import archive_options, with_archive
from s1sr.cli.profiles import ProfiledCommand, profile_options


class RunCommand(ProfiledCommand):
    """``s1sr run``'s own options are parsed by click; only what follows ``--`` reaches pytest.

    So a typo is "No such option: --dmcs (Possible options: --dmc)" and a stray word is refused,
    instead of either reaching pytest as an argument it does not understand. Settings may come from a
    run profile (``--profile NAME``; see :mod:`s1sr.cli.profiles`), which the command line overrides.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Keep what follows the first ``--`` for pytest; click parses the rest strictly."""
        ctx.meta["command_line"] = [*ctx.command_path.split(), *args]  # for the archived run's manifest
        if "--" in args:
            cut = args.index("--")
            args, ctx.meta["pytest_args"] = args[:cut], args[cut + 1 :]
        return super().parse_args(ctx, args)


@main.command(cls=RunCommand)
@profile_options
@click.option("--s1sr-version", default=DEFAULT_VERSION, show_default=True, help="S1SR version to test against.")
@click.option(
    "--modification",
    "modifications",
    multiple=True,
    metavar="ID",
    help="A modification pack in force on top of --s1sr-version, e.g. MP312 (repeatable; see s1sr modifications).",
)
@click.option("--dmc", "dmcs", multiple=True, help="Device Model Combination (repeatable; default: the default DMCs).")
@click.option("--clause", "clauses", multiple=True, help="Run only scenarios of this clause (repeatable).")
@click.option("--report-dir", type=click.Path(file_okay=False, path_type=Path), help="Write results.json here.")
@click.option(
    "--force", is_flag=True, help="Replace the reports in --report-dir even when they are of a run of other settings."
)
@FEATURES_OPTION
@CATALOGUE_OPTION
@click.option("--xsd", default=None, help="DUIS schema (else S1SR_DUIS_XSD, else [tool.s1sr] duis_xsd).")
@click.option("--timeout", default=30.0, show_default=True, help="Seconds allowed per device command.")
@click.option("--adapter", default="simulated", show_default=True, help="Device adapter: name or module:attr.")
@click.option("--adapter-option", "adapter_options", multiple=True, help="KEY=VALUE for the adapter (repeatable).")
@click.option(
    "--device-url",
    multiple=True,
    help="Endpoint of the remote adapter (same as --adapter-option url=...); given more than once, a pool of rigs "
    "of the run's one DMC (see --pool).",
)
@click.option(
    "--pool",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Lab rigs for --adapter remote (TOML of [[rig]]: url, dmc, optional name, token): each scenario leases "
    "one rig of its DMC; without --workers, the run uses as many workers as rigs (docs/pools.md).",
)
@click.option(
    "--target",
    type=click.Choice(["in-process", "duis"]),
    default="in-process",
    show_default=True,
    help="Where the S1SP under test is: in this process (--s1sp), or behind a DUIS endpoint reached as a DCC User.",
)
@click.option("--s1sp", default=None, help="S1SP under test, in process: name or module:attr (default: reference).")
@click.option("--duis-url", default=None, help="DUIS target: the endpoint's base URL, e.g. http://127.0.0.1:8079.")
@click.option("--user-key", type=click.Path(path_type=Path), help="DUIS target: the User's PEM P-256 signing key.")
@click.option("--user-cert", type=click.Path(path_type=Path), help="DUIS target: the certificate of --user-key.")
@click.option(
    "--trust",
    multiple=True,
    type=click.Path(path_type=Path),
    help="DUIS target: a file or folder of the certificates that sign the endpoint's responses (repeatable).",
)
@click.option(
    "--user-keys",
    type=click.Path(path_type=Path),
    default=None,
    metavar="DIR",
    help="DUIS target: other test Users' keys, NAME.key with its certificate NAME.pem beside it; a request is"
    " signed as the User it names (else with --user-key).",
)
@click.option(
    "--response-listen",
    default=None,
    metavar="HOST:PORT",
    help="DUIS target: where asynchronous responses arrive (default: 127.0.0.1:8090).",
)
@click.option(
    "--response-path", default=None, help="DUIS target: the path they are POSTed to (default: /duis/response)."
)
@click.option(
    "--response-timeout",
    type=float,
    default=None,
    help="DUIS target: seconds a request may take to its result (default: 30).",
)
@click.option(
    "--s1sp-version", default=None, help="S1SR version whose rules the S1SP applies (default: --s1sr-version)."
)
@click.option(
    "--signing-key", type=click.Path(path_type=Path), help="PEM P-256 key to sign responses (default: generated)."
)
@click.option("--signing-cert", type=click.Path(path_type=Path), help="PEM certificate of --signing-key.")
@click.option(
    "--workers",
    default=0,
    show_default=True,
    help="Run on this many pytest-xdist worker processes (with a pool of rigs, default: as many as rigs).",
)
@click.option("--shard", default=None, metavar="K/N", help="Run only part K of N (merge parts with s1sr report).")
@click.option(
    "--journal",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the run's journal here (default: .DIR.s1sr-journal.jsonl beside --report-dir DIR).",
)
@click.option(
    "-k",
    "select",
    default=None,
    metavar="EXPR",
    help="Run only scenarios whose names match EXPR (pytest's -k, e.g. -k JoinTimePeriod).",
)
@click.option(
    "--waivers",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Deviation register (TOML of [[waiver]]): failures and errors a live waiver covers are reported waived.",
)
@archive_options
@click.argument("extra", nargs=-1, metavar="[-- PYTEST-ARGS]")
@click.pass_context
def run(
    ctx: click.Context,
    s1sr_version: str,
    modifications: tuple[str, ...],
    dmcs: tuple[str, ...],
    clauses: tuple[str, ...],
    report_dir: Path | None,
    force: bool,
    feature_dirs: tuple[Path, ...],
    xsd: str | None,
    timeout: float,
    adapter: str,
    adapter_options: tuple[str, ...],
    device_url: tuple[str, ...],
    pool: Path | None,
    target: str,
    s1sp: str | None,
    duis_url: str | None,
    user_key: Path | None,
    user_cert: Path | None,
    trust: tuple[Path, ...],
    user_keys: Path | None,
    response_listen: str | None,
    response_path: str | None,
    response_timeout: float | None,
    s1sp_version: str | None,
    signing_key: Path | None,
    signing_cert: Path | None,
    workers: int,
    shard: str | None,
    journal: Path | None,
    select: str | None,
    waivers: Path | None,
    extra: tuple[str, ...],
) -> None:
    """Run the clause scenarios against the reference S1SP and the simulated devices.

    With --target duis the S1SP under test is behind a DUIS endpoint (s1sr serve-s1sp, or DCC's): every
    request is signed as the User it names (its key in --user-keys DIR, else --user-key, --user-cert) and
    sent to --duis-url; results come back synchronously or to --response-listen; the estate is the rig the
    endpoint drives (--adapter remote --device-url URL), which the harness resets before each scenario.

    Arguments after ``--`` go to pytest (for example ``-- -m 'not fuel-gas'``). Every finished scenario is
    appended to the run's journal as it finishes; ``s1sr report`` renders reports from journals
    (a killed run's, or the shards' of one run). The run is kept in the archive (s1sr-runs/ here; see
    s1sr runs) unless --no-archive; its last line names the run's folder there.
    --waivers FILE names the deviation register: a failure or error a live waiver covers is reported
    waived, and the run is CONFORMANT when every non-pass is waived (see docs/waivers.md).
    Exit code 0 CONFORMANT: every selected applicable scenario passed or is waived; 1 NOT CONFORMANT: one
    failed; 3 INCONCLUSIVE: no failure, but errors, scenarios not run, or nothing applicable; 2: bad usage
    or configuration (nothing run); 130: interrupted.
    """
    from s1sr.catalogue.modifications import with_modifications
    from s1sr.errors import ConfigError
    from s1sr.runner import RunOptions, run_suite

    if extra:
        raise ConfigError(
            f"unexpected argument '{extra[0]}'",
            "s1sr run",
            "s1sr run takes options only (see s1sr run --help); to choose a clause use --clause ID, "
            "to pass arguments to pytest put them after --",
        )
    if device_url and adapter == "simulated":
        raise ConfigError(
            "a device URL is for an adapter that reaches devices over the network, and the adapter is simulated",
            "--device-url",
            "add --adapter remote (or name your own adapter)",
        )
    pytest_args = (["-k", select] if select else []) + list(ctx.meta.get("pytest_args", []))

    options = RunOptions(
        version=with_modifications(s1sr_version, modifications),
        dmcs=list(dmcs),
        clauses=list(clauses),
        report_dir=report_dir,
        force=force,
        feature_dirs=list(feature_dirs),
        xsd=xsd,
        timeout_s=timeout,
        pytest_args=pytest_args,
        signing_key=signing_key,
        signing_cert=signing_cert,
        adapter=adapter,
        adapter_options=list(adapter_options) + [f"url={url}" for url in device_url],
        s1sp=s1sp,
        s1sp_version=s1sp_version,
        target=target,
        duis={
            name: value
            for name, value in (
                ("url", duis_url),
                ("user_key", user_key),
                ("user_cert", user_cert),
                ("trust", list(trust)),
                ("user_keys", user_keys),
                ("listen", response_listen),
                ("response_path", response_path),
                ("response_timeout_s", response_timeout),
            )
            if value not in (None, [])
        },
        workers=workers,
        pool=pool,
        shard=shard,
        journal=journal,
        waivers=waivers,
    )
    options = with_archive(ctx, options)  # --archive-dir, --no-archive, --rerun: see s1sr.cli.archive
    sys.exit(run_suite(options, out, err))
