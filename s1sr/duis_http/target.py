"""An S1SP reached over DUIS: the harness acting as DCC Users against a DUIS endpoint (``serve-s1sp`` or DCC's).

:class:`DuisTarget` answers :meth:`~s1sr.s1sp.api.S1SP.respond` by signing the request as
the User its RequestID names and sending it through a
:class:`~s1sr.duis_http.client.DuisClient`, one client (and one response listener) for every
S1SP the configured class creates, so the listener runs for the length of a run, not of a
scenario. A User with a key in ``--user-keys DIR`` signs with it; every other request is
signed with the ``--user-key`` identity, which stands for the harness's default User
(:data:`DEFAULT_USER`). :meth:`DuisTarget.can_act_as` says which Users a run can send as: a
scenario acting as any other is not applicable (an endpoint would refuse it ``E1``).

A code-only DUIS response carrying ``E2`` (User Role not permitted) or ``E11`` (Service
Request not for that device) is the User's answer, as an in-process S1SP gives it: returned,
so that the session checks its signature and correlation and reads it as a refusal. That
holds for the endpoint's own admission ``E11`` too (the S1SP does not handle the SRV): on the
wire it is the same signed document, and DCC refuses E2 and E11 at admission, before any
acknowledgement, so a target that told them apart by when they came would misjudge DCC's.
A request the endpoint refuses as unreadable (HTTP 400) is
:class:`~s1sr.s1sp.api.RequestRefused`, as an in-process S1SP refuses it; every other
failure of the exchange (``E1``, ``E12``, ``E13``, ``E20``, ``E21``, no answer) is a
:class:`~s1sr.duis_http.client.DuisTransportError` (``error``).
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from s1sr.catalogue import DMC, Catalogue
from s1sr.devices.adapter import DeviceAdapter
from s1sr.duis.refusal import is_code_only
from s1sr.duis.safe_xml import parse_xml
from s1sr.duis.schema import DuisSchema
from s1sr.duis.signing import Credentials, load_credentials
from s1sr.duis_http.client import ClientSettings, CounterPolicy, DuisClient, DuisRejected
from s1sr.duis_http.delivery import check_response_url
from s1sr.duis_http.listener import DEFAULT_PATH, check_path, parse_listen
from s1sr.duis_http.trust import eui_of, pem, read_certificates, split_certificates, trusted_certificates
from s1sr.errors import ConfigError
from s1sr.s1sp.api import S1SP, RequestRefused

#: The User the harness sends as unless a scenario names another (``s1sr.session.USER_ID``, the RTDS
#: test User): the ``--user-key`` identity signs as it. Kept here so that an S1SP never imports the session.
DEFAULT_USER = "90-B3-D5-1F-30-01-00-00"
#: DUIS access-control refusals, which a User reads as its request's answer (E2: User Role not
#: permitted to send the Service Reference; E11: Service Reference not compatible with the device).
ACCESS_REFUSALS = frozenset({"E2", "E11"})
#: Refusals that mean "this request is not one the S1SP takes", as RequestRefused means in process.
REFUSED_AS_INVALID = frozenset({"HTTP 400"})
#: The longest deadline per request accepted, seconds.
MAX_RESPONSE_TIMEOUT_S = 600.0
#: Most entries read from a ``--user-keys`` folder: a few test Users' keys, not a key store.
MAX_USER_KEY_ENTRIES = 256
#: Largest key or certificate file read from it, bytes (a PEM P-256 key and its certificate are under 2 KiB).
MAX_USER_KEY_FILE_BYTES = 64 * 1024


@dataclass(frozen=True)
class DuisTargetOptions:
    """How the harness reaches a DUIS endpoint as a User (``s1sr run --target duis ...``)."""

    url: str
    user_key: Path
    user_cert: Path
    trust: tuple[Path, ...]
    #: A folder of other Users' keys (``NAME.key`` with ``NAME.pem`` beside it); None: the default User only.
    user_keys: Path | None = None
    listen: str = "127.0.0.1:8090"
    response_path: str = DEFAULT_PATH
    response_timeout_s: float = 30.0
    counter: CounterPolicy = "preserve"

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any]) -> DuisTargetOptions:
        """Options from names to values (strings from a command line, or typed); ConfigError naming a wrong one."""
        known = {
            "url",
            "user_key",
            "user_cert",
            "trust",
            "user_keys",
            "listen",
            "response_path",
            "response_timeout_s",
            "counter",
        }
        unknown = sorted(set(options) - known)
        if unknown:
            raise ConfigError(
                f"the DUIS target has no option {', '.join(unknown)}",
                "--target duis",
                f"options: {', '.join(sorted(known))}",
            )
        required = {"url": "--duis-url", "user_key": "--user-key", "user_cert": "--user-cert", "trust": "--trust"}
        missing = [option for name, option in required.items() if not options.get(name)]
        if missing:
            raise ConfigError(
                f"the DUIS target needs {', '.join(missing)}",
                "--target duis",
                "give --duis-url, --user-key, --user-cert and --trust",
            )
        trust = options["trust"]
        paths = (trust,) if isinstance(trust, (str, Path)) else tuple(trust)
        try:
            timeout = float(options.get("response_timeout_s", 30.0))
        except (TypeError, ValueError):
            raise ConfigError(
                f"'{options['response_timeout_s']}' is not a number of seconds", "--response-timeout"
            ) from None
        return cls(
            url=str(options["url"]),
            user_key=Path(options["user_key"]),
            user_cert=Path(options["user_cert"]),
            trust=tuple(Path(p) for p in paths),
            user_keys=Path(options["user_keys"]) if options.get("user_keys") else None,
            listen=str(options.get("listen", "127.0.0.1:8090")),
            response_path=str(options.get("response_path", DEFAULT_PATH)),
            response_timeout_s=timeout,
            counter=options.get("counter", "preserve"),
        )

    def __post_init__(self) -> None:
        check_response_url(self.url, "--duis-url")
        parse_listen(self.listen)
        check_path(self.response_path)
        if not 0 < self.response_timeout_s <= MAX_RESPONSE_TIMEOUT_S:
            raise ConfigError(
                f"{self.response_timeout_s:g} s is outside (0, {MAX_RESPONSE_TIMEOUT_S:g}] s", "--response-timeout"
            )
        if self.counter not in ("preserve", "stamp"):
            raise ConfigError(f"counter '{self.counter}' is not preserve or stamp", "--target duis")

    def client_settings(self, schema: DuisSchema | None = None) -> ClientSettings:
        """The client these options describe: the Users' keys read and checked, the trusted certificates read."""
        try:
            user: Credentials = load_credentials(self.user_key, self.user_cert)
        except ConfigError as exc:  # name the options as the DUIS target has them
            raise ConfigError(exc.what, f"--user-key {self.user_key}, --user-cert {self.user_cert}", exc.fix) from None
        users = read_user_keys(self.user_keys) if self.user_keys is not None else {}
        host, port = parse_listen(self.listen)
        return ClientSettings(
            url=self.url,
            user=user,
            trust=trusted_certificates(self.trust),
            listen_host=host,
            listen_port=port,
            response_path=self.response_path,
            response_timeout_s=self.response_timeout_s,
            counter=self.counter,
            schema=schema,
            users=users,
        )


# --- other Users' keys (--user-keys DIR) ------------------------------------------------


def read_user_keys(folder: Path, option: str = "--user-keys") -> dict[str, Credentials]:
    """The signing identities in ``folder`` by User ID: each ``NAME.key`` with its certificate ``NAME.pem`` beside it.

    A key is a PEM P-256 private key; its User is the EUI-64 in its certificate subject's
    ``x500UniqueIdentifier``, as SMKI Organisation Certificates carry it. Other files are
    left alone. ConfigError (one line naming the file) for a key without its certificate, a
    key that is not its certificate's, a certificate naming no User, two keys for one User,
    and a folder that is missing, holds no key, or holds more than
    :data:`MAX_USER_KEY_ENTRIES` entries.
    """
    found: dict[str, Credentials] = {}
    sources: dict[str, Path] = {}
    for key_path in sorted(p for p in _folder_files(folder, option) if p.suffix == ".key"):
        credentials, eui = _user_identity(key_path, option)
        if eui in sources:
            raise ConfigError(
                f"is a second key for User {eui} ({sources[eui].name} is one)",
                f"{option} {key_path}",
                "keep one key per User in the folder",
            )
        found[eui], sources[eui] = credentials, key_path
    if not found:
        raise ConfigError(
            "holds no User key (NAME.key, with its certificate NAME.pem beside it)",
            f"{option} {folder}",
            "put each other test User's PEM P-256 key and certificate there",
        )
    return found


def _folder_files(folder: Path, option: str) -> list[Path]:
    """The files of ``folder``, after checking that it is a folder of at most MAX_USER_KEY_ENTRIES entries."""
    where = f"{option} {folder}"
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "no such folder"
        raise ConfigError(what, where, "name the folder holding NAME.key and NAME.pem for each other User")
    try:
        with os.scandir(folder) as scan:
            entries = list(itertools.islice(scan, MAX_USER_KEY_ENTRIES + 1))  # a huge folder is refused unread
            files = [Path(entry.path) for entry in entries if entry.is_file()]
    except OSError as exc:
        raise ConfigError(f"cannot be read ({exc.strerror})", where) from None
    if len(entries) > MAX_USER_KEY_ENTRIES:
        raise ConfigError(
            f"holds more than {MAX_USER_KEY_ENTRIES} entries",
            where,
            "give a folder holding only the test Users' keys and certificates",
        )
    return files


def _bounded(path: Path, option: str) -> bytes:
    """The bytes of a key or certificate file, at most MAX_USER_KEY_FILE_BYTES of them; ConfigError naming it."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_USER_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot be read ({exc.strerror})", f"{option} {path}") from None
    if len(data) > MAX_USER_KEY_FILE_BYTES:
        raise ConfigError(
            f"is over {MAX_USER_KEY_FILE_BYTES:,} bytes", f"{option} {path}", "give one PEM key or certificate"
        )
    return data


def _user_identity(key_path: Path, option: str) -> tuple[Credentials, str]:
    """One User's key and certificate, checked to belong together, and the User ID its certificate names."""
    cert_path = key_path.with_suffix(".pem")
    where = f"{option} {key_path}"
    if not cert_path.is_file():
        raise ConfigError(
            f"has no certificate beside it ({cert_path.name})",
            where,
            f"put the certificate of this key beside it as {cert_path.name}",
        )
    key_pem = _bounded(key_path, option)
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError):
        raise ConfigError(
            "is not an unencrypted PEM private key", where, "give the User's PEM P-256 signing key"
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ConfigError("is not an ECDSA P-256 key", where, "DUIS signs with P-256")
    _bounded(cert_path, option)  # the size bound, before the certificate reader parses it
    certificates = read_certificates(cert_path, option)
    if len(certificates) != 1:
        raise ConfigError(
            f"holds {len(certificates)} certificates", f"{option} {cert_path}", f"keep only the one of {key_path.name}"
        )
    certificate = certificates[0]
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*spki) != certificate.public_key().public_bytes(*spki):
        raise ConfigError(
            f"is not the key of {cert_path.name} (the certificate holds another public key)",
            where,
            "put each key beside its own certificate",
        )
    eui = eui_of(certificate)
    if eui is None:
        raise ConfigError(
            "names no User (no x500UniqueIdentifier in its subject)",
            f"{option} {cert_path}",
            "give the User's certificate, whose subject names its User ID as SMKI's do",
        )
    return Credentials(key_pem, pem(certificate), f"{key_path} (User {eui})"), eui


class DuisTarget(S1SP):
    """An S1SP behind a DUIS endpoint. Configure the class (:meth:`configure`), then create as any S1SP."""

    name = "duis"
    #: Set by :meth:`configure` on the class it returns.
    options: ClassVar[DuisTargetOptions | None] = None
    schema: ClassVar[DuisSchema | None] = None
    #: The client's settings, read and checked by :meth:`configure` (key, certificates, trust).
    settings: ClassVar[ClientSettings | None] = None
    _client: ClassVar[DuisClient | None] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, client: DuisClient) -> None:
        self.client = client

    @classmethod
    def configure(cls, schema: DuisSchema | None = None, **options: Any) -> type[DuisTarget]:
        """A DuisTarget class bound to ``options`` (see :class:`DuisTargetOptions`); ConfigError for a wrong one.

        Each configured class owns one client, started by the first :meth:`create` and
        stopped by :meth:`shutdown`.
        """
        checked = DuisTargetOptions.from_mapping(options)
        settings = checked.client_settings(schema)  # the key, certificates and trust read now: a wrong one fails here
        attributes = {
            "options": checked,
            "schema": schema,
            "settings": settings,
            "_client": None,
            "_lock": threading.Lock(),
        }
        return type(cls.__name__, (cls,), attributes)

    @classmethod
    def label(cls) -> str:
        """The target as a run's record names it: ``duis URL``."""
        return f"duis {cls.options.url}" if cls.options is not None else "duis (not configured)"

    @classmethod
    def certificates(cls) -> tuple[bytes, ...]:
        """The trusted certificates (one PEM each): the endpoint's signers, and so the S1SP's."""
        return split_certificates(cls.settings.trust) if cls.settings is not None else ()

    @classmethod
    def start(cls) -> DuisClient:
        """Start the class's client and its response listener now (ConfigError naming the address if it cannot)."""
        try:
            return cls.shared_client()
        except ConfigError as exc:
            if cls.options is None:
                raise
            raise ConfigError(exc.what, f"--response-listen {cls.options.listen}", exc.fix) from None

    @classmethod
    def create(
        cls, catalogue: Catalogue, dmc: DMC, adapter: DeviceAdapter, credentials: Credentials, timeout_s: float
    ) -> DuisTarget:
        """The target for one scenario, sharing the class's client (catalogue, DMC and adapter are the endpoint's)."""
        return cls(cls.shared_client())

    @classmethod
    def shared_client(cls) -> DuisClient:
        """The class's client, started on first use."""
        if cls.settings is None:
            raise ConfigError(
                "the DUIS target is not configured", "--target duis", "call DuisTarget.configure(...) first"
            )
        with cls._lock:
            if cls._client is None:
                cls._client = DuisClient(cls.settings).start()
            return cls._client

    @classmethod
    def shutdown(cls) -> None:
        """Stop the class's client and its listener (a later create starts a new one)."""
        with cls._lock:
            if cls._client is not None:
                cls._client.close()
                cls._client = None

    def can_act_as(self, user_id: str) -> bool:
        """Whether this run holds a key to sign as ``user_id``: the default User's, or one of ``--user-keys``."""
        eui = user_id.upper()
        return eui == DEFAULT_USER or eui in self.client.settings.users

    def respond(self, request_xml: bytes) -> bytes:
        """Send the request as its User and return the DUIS response carrying its result (an E2 or E11 too)."""
        try:
            return self.client.send(request_xml).response_xml
        except DuisRejected as exc:
            refusal = exc.response_xml
            if exc.code in ACCESS_REFUSALS and refusal is not None and is_code_only(parse_xml(refusal, "refusal")):
                return refusal  # the User's answer: the session checks its signature and correlation
            if exc.code in REFUSED_AS_INVALID:
                raise RequestRefused(str(exc), "DUIS endpoint " + self.client.base) from None
            raise
