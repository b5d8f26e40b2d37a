"""``s1sr serve-device``: a simulated DMC behind the remote adapter's wire protocol.

``s1sr serve-s1sp``: an S1SP and its simulated Secure estate behind DCC Boxed's DUIS transport.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from s1sr.cli.app import err, main, out
from s1sr.errors import InputError


@main.command(name="serve-device")
@click.option("--dmc", required=True, help="Device Model Combination to simulate.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535), help="TCP port (0: any free).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--adapter-option", "adapter_options", multiple=True, help="KEY=VALUE, e.g. fault=no-response.")
@click.option(
    "--token",
    envvar="S1SR_DEVICE_TOKEN",
    show_envvar=True,
    default=None,
    help="Shared token every call must send as 'Authorization: Bearer TOKEN' (prefer the environment variable: "
    "a command line is visible to other users).",
)
def serve_device(dmc: str, port: int, host: str, adapter_options: tuple[str, ...], token: str | None) -> None:
    """Expose a simulated Secure DMC over the remote adapter's JSON-over-HTTP protocol (wire protocol v1)."""
    import contextlib

    from s1sr.catalogue import find_dmc
    from s1sr.devices.server import is_loopback, make_server
    from s1sr.devices.simulated import SimulatedAdapter
    from s1sr.devices.wire import WireError, check_token
    from s1sr.errors import ConfigError
    from s1sr.plugin import parse_options

    if token is not None:
        try:
            check_token(token)
        except WireError as exc:
            raise ConfigError(str(exc), "--token / S1SR_DEVICE_TOKEN", "make one with: openssl rand -hex 24") from None
    adapter = SimulatedAdapter.create(find_dmc(dmc), parse_options(list(adapter_options)))
    try:
        server = make_server(adapter, host, port, token=token)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InputError(f"cannot listen ({reason})", f"{host}:{port}", "choose another --port or --host") from None
    out.print(f"serving DMC {dmc} on {server.url} (Ctrl-C to stop)", markup=False)
    if token is None and not is_loopback(host):
        err.print(
            f"s1sr: warning: {server.url} has no token: anyone who can reach it can reset the devices; "
            "set S1SR_DEVICE_TOKEN",
            markup=False,
        )
    sys.stdout.flush()
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises Ctrl-C once it has stopped
        server.serve_forever()


DCC_BOXED_HELP = (
    "DCC Boxed compatibility: accept requests signed with the User keys of DCC Boxed's key store and sign DUIS "
    "responses with DCC Boxed's DSP test key (dsp-xml-sign-90B3D51F30000002-ds), so an adapter built for DCC Boxed "
    "works unchanged. These are PUBLIC TEST KEYS: anyone can sign as those Users. Never use them outside a test rig."
)


@main.command(name="serve-s1sp")
@click.option(
    "--response-url", required=True, help="The User's response endpoint: asynchronous responses are POSTed here."
)
@click.option("--dmc", default="secure-esme", show_default=True, help="Device Model Combination to simulate.")
@click.option("--s1sr-version", default=None, help="S1SR version of the S1SP (default: the latest).")
@click.option("--port", default=8079, show_default=True, type=click.IntRange(0, 65535), help="TCP port (0: any free).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--user-cert",
    "user_certs",
    multiple=True,
    metavar="[EUI=]FILE",
    help="A User's signing certificate (PEM); its User is the EUI-64 in its subject, or EUI= (repeatable).",
)
@click.option(
    "--trust",
    multiple=True,
    type=click.Path(path_type=Path),
    help="A folder (or file) of User certificates (.pem .crt .cer .der), each naming its User (repeatable).",
)
@click.option("--dcc-boxed-keys", is_flag=True, help=DCC_BOXED_HELP)
@click.option(
    "--dcc-boxed-keystore",
    envvar="S1SR_DCC_BOXED_KEYSTORE",
    show_envvar=True,
    default=None,
    help="DCC Boxed's keystore.json (npm @smartdcc/dccboxed-keystore), for --dcc-boxed-keys.",
)
@click.option("--signing-key", type=click.Path(path_type=Path), help="PEM P-256 key of the S1SP (default: generated).")
@click.option("--signing-cert", type=click.Path(path_type=Path), help="PEM certificate of --signing-key.")
@click.option(
    "--cert-out",
    type=click.Path(path_type=Path),
    help="Write the certificates that sign the responses (PEM) here, for Users to trust.",
)
@click.option("--s1sp", "s1sp_name", default="reference", show_default=True, help="S1SP to serve: NAME or module:attr.")
@click.option(
    "--adapter",
    default="simulated",
    show_default=True,
    help="The estate's device adapter: the built-in simulation, or a rig (remote, with --device-url; module:attr).",
)
@click.option("--device-url", default=None, help="Endpoint of the remote adapter, e.g. s1sr serve-device's URL.")
@click.option("--adapter-option", "adapter_options", multiple=True, help="KEY=VALUE, e.g. fault=no-response.")
@click.option(
    "--meter-id",
    "meter_ids",
    multiple=True,
    metavar="EUI",
    help="A meter on HAN-A instead of the DMC's one (repeatable; RTDS requests address ...-A0, -A1, -A3).",
)
@click.option("--timeout", default=30.0, show_default=True, help="Seconds allowed per device command.")
@click.option("--xsd", default=None, help="DUIS schema to check requests and responses against (default: as s1sr run).")
def serve_s1sp(
    response_url: str,
    dmc: str,
    s1sr_version: str | None,
    port: int,
    host: str,
    user_certs: tuple[str, ...],
    trust: tuple[Path, ...],
    dcc_boxed_keys: bool,
    dcc_boxed_keystore: str | None,
    signing_key: Path | None,
    signing_cert: Path | None,
    cert_out: Path | None,
    s1sp_name: str,
    adapter: str,
    device_url: str | None,
    adapter_options: tuple[str, ...],
    meter_ids: tuple[str, ...],
    timeout: float,
    xsd: str | None,
) -> None:
    """Serve an S1SP and a simulated Secure estate behind DCC Boxed's DUIS transport (POST /api/v1/serviceD|S|T).

    Requests must be signed by a configured User; device requests are acknowledged I99 and their
    SMETS1 Response POSTed to --response-url; non-device requests are answered I0. One log line
    per exchange and per delivery attempt, on stderr. With --adapter remote --device-url URL the
    estate is a rig (e.g. s1sr serve-device) that s1sr run --target duis can reset and read too.
    """
    import contextlib

    from s1sr.catalogue import DEFAULT_VERSION
    from s1sr.cli.app import write_output
    from s1sr.devices.server import is_loopback
    from s1sr.duis_http.configure import ServeSettings, build
    from s1sr.duis_http.server import make_s1sp_server
    from s1sr.plugin import parse_options

    settings = ServeSettings(
        response_url=response_url,
        dmc=dmc,
        s1sr_version=s1sr_version or DEFAULT_VERSION,
        s1sp=s1sp_name,
        adapter=adapter,
        adapter_options=parse_options(list(adapter_options) + ([f"url={device_url}"] if device_url else [])),
        meter_ids=meter_ids,
        timeout_s=timeout,
        user_certs=user_certs,
        trust=trust,
        dcc_boxed_keys=dcc_boxed_keys,
        dcc_boxed_keystore=dcc_boxed_keystore,
        signing_key=signing_key,
        signing_cert=signing_cert,
        xsd=xsd,
    )
    served = build(settings)
    try:
        server = make_s1sp_server(served.endpoint, served.delivery, host, port)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise InputError(f"cannot listen ({reason})", f"{host}:{port}", "choose another --port or --host") from None
    if cert_out is not None:
        write_output(cert_out, served.certificates_pem())
    out.print(f"serving DUIS on {server.url}/api/v1/serviceD|serviceS|serviceT (Ctrl-C to stop)", markup=False)
    for line in served.summary:
        out.print(f"  {line}", markup=False)
    if cert_out is not None:
        out.print(f"  certificates to trust written to {cert_out}", markup=False)
    if dcc_boxed_keys and not is_loopback(host):
        err.print(
            f"s1sr: warning: {server.url} accepts requests signed with DCC Boxed's PUBLIC test keys from the network",
            markup=False,
        )
    sys.stdout.flush()
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises Ctrl-C once it has stopped
        server.serve_forever()
