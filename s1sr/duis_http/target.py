"""An S1SP reached over DUIS: the harness acting as a DCC User against a DUIS endpoint (``serve-s1sp`` or DCC's).

:class:`DuisTarget` answers :meth:`~s1sr.s1sp.api.S1SP.respond` by signing the request as
the configured User and sending it through a :class:`~s1sr.duis_http.client.DuisClient`,
one client (and one response listener) for every S1SP the configured class creates, so the
listener runs for the length of a run, not of a scenario.

A request the endpoint refuses as unreadable (HTTP 400) or as a Service Request it does not
handle (``E11``) is :class:`~s1sr.s1sp.api.RequestRefused`, as an in-process S1SP refuses
it; every other failure of the exchange is a :class:`~s1sr.duis_http.client.DuisTransportError`
(``error``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from s1sr.catalogue import DMC, Catalogue
from s1sr.devices.adapter import DeviceAdapter
from s1sr.duis.schema import DuisSchema
from s1sr.duis.signing import Credentials, load_credentials
from s1sr.duis_http.client import ClientSettings, CounterPolicy, DuisClient, DuisRejected
from s1sr.duis_http.delivery import check_response_url
from s1sr.duis_http.listener import DEFAULT_PATH, check_path, parse_listen
from s1sr.duis_http.trust import split_certificates, trusted_certificates
from s1sr.errors import ConfigError
from s1sr.s1sp.api import S1SP, RequestRefused

#: Refusals that mean "this request is not one the S1SP takes", as RequestRefused means in process.
REFUSED_AS_INVALID = frozenset({"HTTP 400", "E11"})
#: The longest deadline per request accepted, seconds.
MAX_RESPONSE_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class DuisTargetOptions:
    """How the harness reaches a DUIS endpoint as a User (``s1sr run --target duis ...``)."""

    url: str
    user_key: Path
    user_cert: Path
    trust: tuple[Path, ...]
    listen: str = "127.0.0.1:8090"
    response_path: str = DEFAULT_PATH
    response_timeout_s: float = 30.0
    counter: CounterPolicy = "preserve"

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any]) -> DuisTargetOptions:
        """Options from names to values (strings from a command line, or typed); ConfigError naming a wrong one."""
        known = {"url", "user_key", "user_cert", "trust", "listen", "response_path", "response_timeout_s", "counter"}
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
        """The client these options describe: the User's key read and checked, the trusted certificates read."""
        try:
            user: Credentials = load_credentials(self.user_key, self.user_cert)
        except ConfigError as exc:  # name the options as the DUIS target has them
            raise ConfigError(exc.what, f"--user-key {self.user_key}, --user-cert {self.user_cert}", exc.fix) from None
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
        )


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

    def respond(self, request_xml: bytes) -> bytes:
        """Send the request as the User and return the DUIS response carrying its result."""
        try:
            return self.client.send(request_xml).response_xml
        except DuisRejected as exc:
            if exc.code in REFUSED_AS_INVALID:
                raise RequestRefused(str(exc), "DUIS endpoint " + self.client.base) from None
            raise
