"""``s1sr serve-device``: a simulated DMC behind the remote adapter's wire protocol."""

from __future__ import annotations

import sys

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
