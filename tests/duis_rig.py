"""A DUIS rig for the tests: test Users, a served S1SP on loopback, and a User's client pointed at it.

Everything listens on 127.0.0.1 on ports the system picks; the client's response listener
starts first so that the endpoint can be told where to deliver.
"""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
from cryptography import x509
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import NameOID

from s1sr.devices.server import DeviceServer
from s1sr.duis.safe_xml import parse_xml
from s1sr.duis.signing import Credentials, self_signed
from s1sr.duis_http.client import ClientSettings, DuisClient
from s1sr.duis_http.configure import Served, ServeSettings, build
from s1sr.duis_http.envelope import sign_envelope, strip_envelope_signature
from s1sr.duis_http.listener import ResponseListener
from s1sr.duis_http.server import ServerLimits, make_s1sp_server
from tests.conftest import RTDS, SHARED

XSD = SHARED / "duis" / "DUIS Schema V5.4.xsd"
USER = "90-B3-D5-1F-30-01-00-00"
OTHER_USER = "90-B3-D5-1F-30-03-00-00"
#: The meters the RTDS templates address, placed on HAN-A as ``s1sr translate`` places them.
RTDS_METERS = ("00-DB-12-34-56-78-90-A0", "00-DB-12-34-56-78-90-A1", "00-DB-12-34-56-78-90-A3")


def make_user(eui: str | None, name: str = "test User") -> Credentials:
    """A P-256 key and a self-signed certificate naming ``eui`` in its subject, as SMKI certificates do."""
    attributes: list[x509.NameAttribute[Any]] = [x509.NameAttribute(NameOID.COMMON_NAME, name)]
    if eui is not None:
        octets = b"\x00" + bytes.fromhex(eui.replace("-", ""))  # a BIT STRING: no unused bits, then the EUI
        attributes.append(x509.NameAttribute(NameOID.X500_UNIQUE_IDENTIFIER, octets, _type=_ASN1Type.BitString))
    return self_signed(x509.Name(attributes), 2, name)


def write_pair(credentials: Credentials, folder: Path, stem: str) -> tuple[Path, Path]:
    """The key and certificate as PEM files ``stem.key`` and ``stem.pem`` in ``folder``."""
    key, cert = folder / f"{stem}.key", folder / f"{stem}.pem"
    key.write_bytes(credentials.key_pem)
    cert.write_bytes(credentials.cert_pem)
    return key, cert


def write_users(euis: Iterable[str], folder: Path) -> list[Path]:
    """A fresh key and certificate for each User in ``folder`` (``EUI.key``, ``EUI.pem``, hex digits only).

    The folder is what ``s1sr run --user-keys`` reads; the certificates, returned in order,
    are what ``serve-s1sp --user-cert`` is given.
    """
    folder.mkdir(parents=True, exist_ok=True)
    return [write_pair(make_user(eui, f"test User {eui}"), folder, eui.replace("-", ""))[1] for eui in euis]


def rtds(name: str) -> bytes:
    """An RTDS request template, as published."""
    return (RTDS / name).read_bytes()


def with_counter(xml: bytes, counter: int, originator: str | None = None) -> bytes:
    """The request with its RequestID's counter (and, if given, originator) replaced."""

    def swap(match: re.Match[bytes]) -> bytes:
        who, target, _ = match.group(1).split(b":")
        return (
            b"<sr:RequestID>"
            + (originator.encode() if originator else who)
            + b":"
            + target
            + b":"
            + str(counter).encode()
            + b"</sr:RequestID>"
        )

    return re.sub(rb"<sr:RequestID>([^<]*)</sr:RequestID>", swap, xml, count=1)


def signed(xml: bytes, user: Credentials) -> bytes:
    """The request signed as ``user`` (its placeholder signature replaced), as the client sends it."""
    root = parse_xml(xml)
    strip_envelope_signature(root)
    return sign_envelope(root, user)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 a moment ago (for a listener whose URL must be known in advance)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Rig:
    """A served S1SP and a User's client, both on loopback, and the endpoint's log."""

    served: Served
    server: DeviceServer
    client: DuisClient
    log: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The endpoint's base URL."""
        return self.server.url

    def post(self, path: str, body: bytes, content_type: str = "application/xml", **headers: str) -> httpx.Response:
        """One raw POST to the endpoint, as any User's system might send it."""
        return httpx.post(self.url + path, content=body, headers={"Content-Type": content_type, **headers}, timeout=10)

    def lines(self, prefix: str = "s1sr-duis ") -> list[str]:
        """The endpoint's log lines of one kind."""
        return [line for line in self.log if line.startswith(prefix)]

    def exchanges(self, count: int, timeout_s: float = 5.0) -> list[str]:
        """The log lines of POSTed requests, once there are ``count`` (a line follows its answer, so may trail it)."""
        deadline = time.monotonic() + timeout_s
        found = [line for line in self.lines() if '"POST ' in line]
        while len(found) < count and time.monotonic() < deadline:
            time.sleep(0.02)
            found = [line for line in self.lines() if '"POST ' in line]
        return found

    def deliveries(self, count: int, timeout_s: float = 5.0) -> list[str]:
        """The delivery log lines, once there are ``count`` (a line follows its delivery, so may trail the client)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = [line for line in self.log if " deliver " in line]
            if len(found) >= count:
                return found
            time.sleep(0.02)
        return [line for line in self.log if " deliver " in line]


@contextmanager
def rig(
    user: Credentials,
    tmp: Path,
    *,
    response_timeout_s: float = 10.0,
    delivery: dict[str, Any] | None = None,
    deliver_to: str | None = None,
    trust: tuple[bytes, ...] | None = None,
    limits: ServerLimits | None = None,
    **settings: Any,
) -> Iterator[Rig]:
    """A served S1SP for the RTDS meters trusting ``user``, and ``user``'s client; stopped on exit.

    ``deliver_to`` sends the asynchronous responses elsewhere than the client's listener;
    ``delivery`` changes the delivery policy (attempts, timeouts).
    """
    _, cert = write_pair(user, tmp, "rig-user")
    listener = ResponseListener(lambda body: "not ready", port=0).start()
    options: dict[str, Any] = {"user_certs": (str(cert),), "meter_ids": RTDS_METERS, "xsd": str(XSD), **settings}
    served = build(ServeSettings(response_url=deliver_to or listener.url, **options))
    if delivery:
        served = replace(served, delivery=replace(served.delivery, **delivery))
    log: list[str] = []
    server = make_s1sp_server(served.endpoint, served.delivery, "127.0.0.1", 0, limits=limits, log=log.append)
    server.start()
    client_settings = ClientSettings(
        url=server.url,
        user=user,
        trust=trust if trust is not None else served.certificates(),
        response_timeout_s=response_timeout_s,
        schema=served.endpoint.schema,
    )
    client = DuisClient(client_settings, listener=listener)
    try:
        yield Rig(served, server, client, log)
    finally:
        client.close()
        server.stop()
