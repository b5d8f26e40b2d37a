"""What ``s1sr serve-s1sp`` is given, checked and assembled: the S1SP, its estate, whom it trusts, how it signs.

Every setting is checked here, before anything listens, and a wrong one is one
:class:`ConfigError` line naming the option. :func:`build` is what the command runs and
what tests call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from s1sr.catalogue import DEFAULT_VERSION, DMC, find_dmc, load_catalogue
from s1sr.devices.adapter import DeviceAdapter, DeviceError
from s1sr.devices.registry import adapter_class, create_adapter
from s1sr.devices.simulated import ESTATE, SimulatedAdapter
from s1sr.duis.schema import DuisSchema, find_schema, load_schema, schema_required
from s1sr.duis.signing import Credentials, generated_credentials, load_credentials
from s1sr.duis_http.delivery import DeliveryPolicy
from s1sr.duis_http.endpoint import DuisEndpoint
from s1sr.duis_http.trust import UserDirectory, eui_option, keystore_path, load_dcc_boxed_keys, user_certificates
from s1sr.errors import ConfigError
from s1sr.s1sp.registry import s1sp_class

#: Largest device command timeout accepted, seconds (as ``s1sr run``).
MAX_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class ServeSettings:
    """The options of ``s1sr serve-s1sp``."""

    response_url: str
    dmc: str = "secure-esme"
    s1sr_version: str = DEFAULT_VERSION
    s1sp: str = "reference"
    #: The estate's device adapter: the built-in simulation, or a rig (``remote`` with ``url``...).
    adapter: str = "simulated"
    adapter_options: Mapping[str, str] = field(default_factory=dict)
    #: Meters placed on HAN-A instead of the DMC's usual one (RTDS requests address -A0, -A1, -A3).
    meter_ids: tuple[str, ...] = ()
    timeout_s: float = 30.0
    user_certs: tuple[str, ...] = ()
    trust: tuple[Path, ...] = ()
    dcc_boxed_keys: bool = False
    dcc_boxed_keystore: str | None = None
    signing_key: Path | None = None
    signing_cert: Path | None = None
    xsd: str | None = None


@dataclass(frozen=True)
class Served:
    """An endpoint ready to serve, and what to tell its operator."""

    endpoint: DuisEndpoint
    delivery: DeliveryPolicy
    #: Signs the SMETS1 Responses (the S1SP's own key).
    s1sp_credentials: Credentials
    #: Signs the DUIS responses around them.
    envelope_credentials: Credentials
    summary: tuple[str, ...]

    def certificates(self) -> tuple[bytes, ...]:
        """The certificates (PEM, one each) a User trusts to read the responses: the S1SP's, the envelope's."""
        found = [self.s1sp_credentials.cert_pem]
        if self.envelope_credentials.cert_pem != self.s1sp_credentials.cert_pem:
            found.append(self.envelope_credentials.cert_pem)
        return tuple(found)

    def certificates_pem(self) -> bytes:
        """:meth:`certificates` as one PEM file (``--cert-out``)."""
        return b"".join(pem if pem.endswith(b"\n") else pem + b"\n" for pem in self.certificates())


def _schema(xsd: str | None) -> DuisSchema | None:
    setting = find_schema(xsd)
    if setting.path is None:
        if schema_required():
            raise ConfigError("S1SR_REQUIRE_XSD is set but no DUIS schema is configured", "--xsd", "pass --xsd PATH")
        return None
    return load_schema(setting.path)


def _meters(meter_ids: tuple[str, ...]) -> tuple[str, ...] | None:
    if not meter_ids:
        return None
    hubs = {hub for _, hub, _ in ESTATE} | {meter for _, _, meter in ESTATE[1:]}
    found = []
    for text in meter_ids:
        eui = eui_option(text, f"--meter-id {text}", "give an EUI-64 such as 00-DB-12-34-56-78-90-A1")
        if eui in hubs:
            raise ConfigError(f"{eui} is already a device of the estate (a hub, or the HAN-B meter)", "--meter-id")
        found.append(eui)
    return tuple(dict.fromkeys(found))


def _estate(settings: ServeSettings, dmc: DMC) -> DeviceAdapter:
    """The devices the S1SP drives: the built-in simulation (meters placed as asked), or the adapter named."""
    found = adapter_class(settings.adapter)
    if found is SimulatedAdapter:
        simulated = SimulatedAdapter.create(dmc, settings.adapter_options)  # checks the options
        return SimulatedAdapter(dmc, _meters(settings.meter_ids), simulated.fault, simulated.latency_s)
    if settings.meter_ids:
        raise ConfigError(
            f"--meter-id places meters in the built-in simulation, not on the estate of --adapter {settings.adapter}",
            "--meter-id",
            "leave it out: the adapter lists its own devices",
        )
    options = dict(settings.adapter_options)
    key = getattr(found, "run_timeout_option", None)  # a rig bounds its own calls by the command timeout
    if isinstance(key, str) and key not in options:
        options[key] = repr(settings.timeout_s)
    try:
        return create_adapter(settings.adapter, dmc, options)
    except DeviceError as exc:
        raise ConfigError(str(exc), f"--adapter {settings.adapter}", "check that the devices are reachable") from None


def build(settings: ServeSettings) -> Served:
    """Check every setting and assemble the endpoint; ConfigError (one line) for the first wrong one."""
    if not 0 < settings.timeout_s <= MAX_TIMEOUT_S:
        raise ConfigError(f"{settings.timeout_s:g} s is outside (0, {MAX_TIMEOUT_S:g}] s", "--timeout")
    delivery = DeliveryPolicy(settings.response_url)
    catalogue = load_catalogue(settings.s1sr_version)
    dmc = find_dmc(settings.dmc)
    adapter = _estate(settings, dmc)
    if (settings.signing_key is None) != (settings.signing_cert is None):
        raise ConfigError("give both --signing-key and --signing-cert, or neither", "--signing-key/--signing-cert")
    if settings.signing_key is not None and settings.signing_cert is not None:
        s1sp_credentials = load_credentials(settings.signing_key, settings.signing_cert)
    else:
        s1sp_credentials = generated_credentials()
    users = user_certificates(settings.user_certs, settings.trust)
    envelope = s1sp_credentials
    summary = []
    if settings.dcc_boxed_keys:
        path = keystore_path(settings.dcc_boxed_keystore)
        boxed = load_dcc_boxed_keys(path)
        users += boxed.users
        envelope = boxed.dsp
        summary.append(
            f"DCC Boxed mode: {len(boxed.users)} User certificates and the DSP's signing key from {path}"
            f" ({boxed.skipped} unreadable entries left out; PUBLIC TEST KEYS: anyone can sign as these Users)"
        )
    elif settings.dcc_boxed_keystore:
        raise ConfigError("--dcc-boxed-keystore is only read with --dcc-boxed-keys", "--dcc-boxed-keystore")
    if not users:
        raise ConfigError(
            "no User certificate: every request would be refused",
            "--user-cert / --trust / --dcc-boxed-keys",
            "name the certificate your DUIS requests are signed with",
        )
    directory = UserDirectory(users)
    s1sp = s1sp_class(settings.s1sp).create(catalogue, dmc, adapter, s1sp_credentials, settings.timeout_s)
    endpoint = DuisEndpoint(s1sp, directory, envelope, _schema(settings.xsd))
    estate = getattr(adapter, "url", None) or settings.adapter
    summary[:0] = [
        f"S1SP {settings.s1sp}, S1SR {catalogue.version}, DMC {dmc.id}; devices ({estate}):"
        f" {', '.join(sorted(d.device_id for d in adapter.devices()))}",
        f"Users: {', '.join(directory.users)} ({len(directory)} certificates)",
        f"SMETS1 Responses signed by {s1sp_credentials.source}; DUIS responses by {envelope.source}",
        f"asynchronous responses POSTed to {delivery.url}",
        "DUIS schema: "
        + (str(endpoint.schema.path) if endpoint.schema is not None else "not configured (not checked)"),
    ]
    return Served(endpoint, delivery, s1sp_credentials, envelope, tuple(summary))
