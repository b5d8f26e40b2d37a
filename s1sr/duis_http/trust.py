"""Whose signatures the DUIS transport accepts: User certificates by business originator, trusted signers,
and DCC Boxed's public test key store.

A User certificate belongs to the business originator (EUI-64) named in its subject's
``x500UniqueIdentifier`` (2.5.4.45), as SMKI Organisation Certificates carry it, or to the
EUI-64 given with it (``EUI=FILE``). A request is accepted only with a signature that one of
its originator's certificates verifies.

DCC Boxed's key store (npm ``@smartdcc/dccboxed-keystore``, ``keystore.json``) maps each EUI
(16 hex digits) to its ``digitalSignature`` and ``keyAgreement`` entries, each keyed by the
certificate serial with ``certificate``, ``privateKey`` (PEM), ``name`` and ``role``. Its keys
are public TEST keys: anyone can sign as any of its Users.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from s1sr.duis.request import normalise_eui
from s1sr.duis.signing import Credentials
from s1sr.errors import ConfigError, InputError

#: Environment variable naming DCC Boxed's ``keystore.json`` for ``--dcc-boxed-keys``.
KEYSTORE_ENV = "S1SR_DCC_BOXED_KEYSTORE"
#: The key DCC Boxed signs its DUIS Responses with (and DCC's signing tool validates them with).
DSP_KEY_NAME = "dsp-xml-sign-90B3D51F30000002-ds"
#: Key store roles that are DCC's own, not a User's: Access Control Broker (4), DSP XML signing (137).
DCC_ROLES = frozenset({4, 137})
#: Largest certificate file or key store read.
MAX_FILE_BYTES = 8 * 1024 * 1024
CERTIFICATE_SUFFIXES = (".pem", ".crt", ".cer", ".der")

_PEM_BLOCK = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.DOTALL)


@dataclass(frozen=True)
class UserCertificate:
    """A certificate a User signs its requests with: the User's EUI-64 and where the certificate came from."""

    eui: str
    cert_pem: bytes
    source: str


class UserDirectory:
    """The User certificates an endpoint accepts, by business originator."""

    def __init__(self, certificates: Iterable[UserCertificate]) -> None:
        self._by_user: dict[str, list[UserCertificate]] = {}
        for certificate in certificates:
            self._by_user.setdefault(certificate.eui, []).append(certificate)

    def certificates(self, eui: str) -> list[bytes]:
        """The certificates of the User ``eui`` (DUIS form; empty when unknown)."""
        return [c.cert_pem for c in self._by_user.get(eui.upper(), [])]

    @property
    def users(self) -> list[str]:
        """The EUI-64s of the known Users."""
        return sorted(self._by_user)

    def __len__(self) -> int:
        return sum(len(found) for found in self._by_user.values())


def _read(path: Path, option: str) -> bytes:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ConfigError(f"is over {MAX_FILE_BYTES:,} bytes", f"{option} {path}", "name a certificate file")
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError("no such file", f"{option} {path}", "check the path") from None
    except IsADirectoryError:
        raise ConfigError("is a directory", f"{option} {path}", "name a file") from None
    except OSError as exc:
        raise ConfigError(f"cannot be read ({exc.strerror})", f"{option} {path}") from None


def read_certificates(path: Path, option: str) -> list[x509.Certificate]:
    """The certificates in a file: one or more PEM blocks, or one DER certificate; ConfigError if none."""
    data = _read(path, option)
    blocks = _PEM_BLOCK.findall(data)
    try:
        if blocks:
            found = [x509.load_pem_x509_certificate(block) for block in blocks]
        else:
            found = [x509.load_der_x509_certificate(data)]
    except ValueError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"holds no readable X.509 certificate ({first})", f"{option} {path}") from None
    for certificate in found:
        key = certificate.public_key()
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
            raise ConfigError(
                "holds a certificate whose key is not ECDSA P-256", f"{option} {path}", "DUIS signs with P-256"
            )
    return found


def split_certificates(blobs: Sequence[bytes]) -> tuple[bytes, ...]:
    """Each PEM certificate of ``blobs`` on its own (a blob may hold several); a DER blob is kept whole."""
    found: list[bytes] = []
    for blob in blobs:
        blocks = _PEM_BLOCK.findall(blob)
        found += [block + b"\n" for block in blocks] if blocks else [blob]
    return tuple(found)


def pem(certificate: x509.Certificate) -> bytes:
    """A certificate as PEM."""
    return certificate.public_bytes(serialization.Encoding.PEM)


def eui_of(certificate: x509.Certificate) -> str | None:
    """The EUI-64 in a certificate subject's ``x500UniqueIdentifier`` (SMKI's place for it), in DUIS form."""
    for attribute in certificate.subject.get_attributes_for_oid(NameOID.X500_UNIQUE_IDENTIFIER):
        value = attribute.value
        raw = value if isinstance(value, bytes) else str(value).encode("latin-1")
        # A BIT STRING: its first octet counts the unused bits (0), then the eight octets of the EUI.
        octets = raw[1:] if len(raw) == 9 and raw[0] == 0 else raw
        if len(octets) == 8:
            return "-".join(f"{b:02X}" for b in octets)
    return None


def certificate_files(path: Path, option: str) -> list[Path]:
    """``path`` itself, or the certificate files (``.pem .crt .cer .der``) of a folder; ConfigError if none."""
    if not path.is_dir():
        return [path]
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in CERTIFICATE_SUFFIXES)
    if not files:
        raise ConfigError(f"holds no certificate file ({' '.join(CERTIFICATE_SUFFIXES)})", f"{option} {path}")
    return files


def eui_option(text: str, where: str, hint: str) -> str:
    """An EUI-64 given in an option, in DUIS form; ConfigError naming ``where`` (and how to write it) if it is not."""
    try:
        return normalise_eui(text, where)
    except InputError as exc:
        raise ConfigError(exc.what, where, hint) from None


def user_certificates(specs: Sequence[str], trust: Sequence[Path]) -> list[UserCertificate]:
    """User certificates from ``--user-cert [EUI=]FILE`` values and ``--trust DIR|FILE`` paths.

    Without ``EUI=``, a certificate's User is the EUI-64 in its subject; a certificate that
    names none is refused, naming the file.
    """
    found: list[UserCertificate] = []
    for spec in specs:
        eui_text, sep, file_text = spec.partition("=")
        eui = None
        if sep:
            eui = eui_option(eui_text, f"--user-cert {spec}", "write EUI=FILE, e.g. 90-B3-D5-1F-30-01-00-00=user.pem")
        path = Path(file_text if sep else spec)
        found += _owned(read_certificates(path, "--user-cert"), path, "--user-cert", eui)
    for folder in trust:
        for path in certificate_files(folder, "--trust"):
            found += _owned(read_certificates(path, "--trust"), path, "--trust", None)
    return found


def _owned(certificates: list[x509.Certificate], path: Path, option: str, eui: str | None) -> list[UserCertificate]:
    owned = []
    for certificate in certificates:
        user = eui or eui_of(certificate)
        if user is None:
            raise ConfigError(
                "a certificate names no User (no x500UniqueIdentifier in its subject)",
                f"{option} {path}",
                "give it as --user-cert EUI=FILE",
            )
        owned.append(UserCertificate(user, pem(certificate), str(path)))
    return owned


def trusted_certificates(paths: Sequence[Path], option: str = "--trust") -> tuple[bytes, ...]:
    """Every certificate (PEM) in the files and folders ``paths``: the signers a User trusts."""
    found = [
        pem(c) for path in paths for file in certificate_files(path, option) for c in read_certificates(file, option)
    ]
    if not found:
        raise ConfigError("no certificate to trust", option, "name the endpoint's signing certificate(s)")
    return tuple(found)


# --- DCC Boxed's key store ------------------------------------------------------------


@dataclass(frozen=True)
class DccBoxedKeys:
    """What ``--dcc-boxed-keys`` takes from DCC Boxed's key store."""

    users: list[UserCertificate]
    dsp: Credentials
    #: Entries whose certificate could not be read (the store holds a few), left out.
    skipped: int


def keystore_path(explicit: str | None) -> Path:
    """The key store named by ``--dcc-boxed-keystore`` or ``S1SR_DCC_BOXED_KEYSTORE``; ConfigError if neither."""
    value = explicit or os.environ.get(KEYSTORE_ENV, "")
    if not value:
        raise ConfigError(
            "--dcc-boxed-keys needs DCC Boxed's key store",
            f"--dcc-boxed-keystore / {KEYSTORE_ENV}",
            "npm install @smartdcc/dccboxed-keystore and name its keystore.json",
        )
    return Path(value)


def load_dcc_boxed_keys(path: Path) -> DccBoxedKeys:
    """Users' certificates and the DSP's signing key from DCC Boxed's ``keystore.json``; ConfigError if unusable."""
    where = f"DCC Boxed key store {path}"
    try:
        store = json.loads(_read(path, "--dcc-boxed-keystore"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"is not JSON ({str(exc).splitlines()[0]})", where, "name the package's keystore.json"
        ) from None
    if not isinstance(store, dict):
        raise ConfigError("is not a JSON object of EUIs", where, "name the package's keystore.json")
    users: list[UserCertificate] = []
    dsp: Credentials | None = None
    skipped = 0
    for eui_hex, usages in store.items():
        signing = usages.get("digitalSignature", {}) if isinstance(usages, dict) else {}
        for serial, entry in signing.items() if isinstance(signing, dict) else ():
            certificate = _entry_certificate(entry)
            if certificate is None or not re.fullmatch(r"[0-9a-fA-F]{16}", eui_hex):
                skipped += 1
                continue
            name = str(entry.get("name", serial))
            if name == DSP_KEY_NAME:
                dsp = _dsp_credentials(entry, certificate, where)
            elif entry.get("role") not in DCC_ROLES:
                eui = "-".join(eui_hex[i : i + 2] for i in range(0, 16, 2)).upper()
                users.append(UserCertificate(eui, pem(certificate), f"{where}: {name} (public TEST key)"))
    if dsp is None:
        raise ConfigError(f"holds no {DSP_KEY_NAME} entry", where, "name @smartdcc/dccboxed-keystore's keystore.json")
    if not users:
        raise ConfigError(
            "holds no User signing certificate", where, "name @smartdcc/dccboxed-keystore's keystore.json"
        )
    return DccBoxedKeys(users, dsp, skipped)


def _entry_certificate(entry: Any) -> x509.Certificate | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("certificate"), str):
        return None
    try:
        certificate = x509.load_pem_x509_certificate(entry["certificate"].encode("ascii"))
        key = certificate.public_key()
    except ValueError:
        return None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        return None
    return certificate


def _dsp_credentials(entry: dict[str, Any], certificate: x509.Certificate, where: str) -> Credentials:
    """The DSP's key and certificate, checked to belong together."""
    try:
        key_pem = str(entry["privateKey"]).encode("ascii")
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (KeyError, ValueError, TypeError):
        raise ConfigError(f"the {DSP_KEY_NAME} private key is not readable PEM", where) from None
    public = certificate.public_key()
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(public, ec.EllipticCurvePublicKey):
        raise ConfigError(f"the {DSP_KEY_NAME} key is not ECDSA", where)
    der = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*der) != public.public_bytes(*der):
        raise ConfigError(f"the {DSP_KEY_NAME} key and certificate do not belong together", where)
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return Credentials(pkcs8, pem(certificate), f"{DSP_KEY_NAME} from {where} (public TEST key)")
