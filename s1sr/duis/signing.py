"""XML digital signatures on SMETS1 Responses: ECDSA P-256 / SHA-256, exclusive C14N, enveloped.

The S1SP signs each ``sr:SMETS1SignedResponse`` as a document of its own
(``Reference URI=""``), and a User verifies it the same way, on a copy of that
element taken out of the DUIS ``sr:Response``. The harness generates a test key
and self-signed certificate once per process unless the user supplies a key
pair (PEM files) through :func:`load_credentials`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from lxml import etree

from s1sr.errors import ConfigError

C14N_EXCLUSIVE = "http://www.w3.org/2001/10/xml-exc-c14n#"


@dataclass(frozen=True)
class Credentials:
    """A signing key and the certificate that verifies it (both PEM)."""

    key_pem: bytes
    cert_pem: bytes
    source: str


@cache
def generated_credentials() -> Credentials:
    """A fresh P-256 key and self-signed certificate, made once per process."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "s1sr reference S1SP (test key)")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return Credentials(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        cert.public_bytes(serialization.Encoding.PEM),
        "generated test key",
    )


def load_credentials(key_path: Path, cert_path: Path) -> Credentials:
    """Read a user's P-256 private key and the certificate that verifies it (PEM).

    A key and certificate that do not belong together are refused here, before a run,
    rather than found out as "signature does not verify" in every scenario.
    """
    try:
        key_pem, cert_pem = key_path.read_bytes(), cert_path.read_bytes()
        key = serialization.load_pem_private_key(key_pem, password=None)
        cert = x509.load_pem_x509_certificate(cert_pem)
    except (OSError, ValueError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(
            f"cannot load the signing key or certificate: {first}",
            f"--signing-key {key_path}, --signing-cert {cert_path}",
            "give an unencrypted PEM P-256 private key and its PEM certificate",
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ConfigError(
            "the signing key is not an ECDSA P-256 key", f"--signing-key {key_path}", "DUIS signs with P-256"
        )
    if _public_der(key.public_key()) != _public_der(cert.public_key()):
        raise ConfigError(
            "the signing key and the certificate do not belong together (the certificate holds another public key)",
            f"--signing-key {key_path}, --signing-cert {cert_path}",
            "give the certificate issued for this key",
        )
    return Credentials(key_pem, cert_pem, f"{key_path}")


def _public_der(public_key: object) -> bytes:
    if not isinstance(public_key, ec.EllipticCurvePublicKey):
        return b""
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def sign_element(element: etree._Element, credentials: Credentials) -> etree._Element:
    """Return a signed copy of ``element`` with ``ds:Signature`` as its last child."""
    from signxml.algorithms import SignatureConstructionMethod, SignatureMethod
    from signxml.signer import XMLSigner

    signer = XMLSigner(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=SignatureMethod.ECDSA_SHA256,
        digest_algorithm="sha256",
        c14n_algorithm=C14N_EXCLUSIVE,
    )
    signed: etree._Element = signer.sign(element, key=credentials.key_pem, cert=credentials.cert_pem.decode("ascii"))
    return signed


@dataclass(frozen=True)
class SignatureCheck:
    """The verdict on one signature: ``valid`` and, when not, why."""

    valid: bool
    reason: str


def verify_element(element: etree._Element, cert_pem: bytes) -> SignatureCheck:
    """Verify the enveloped signature of ``element`` (taken as a document of its own)."""
    from signxml.exceptions import InvalidCertificate, InvalidDigest, InvalidInput, InvalidSignature
    from signxml.verifier import XMLVerifier

    detached = etree.fromstring(etree.tostring(element))
    if detached.find("{http://www.w3.org/2000/09/xmldsig#}Signature") is None:
        return SignatureCheck(False, "no ds:Signature on the SMETS1 Response")
    try:
        XMLVerifier().verify(detached, x509_cert=cert_pem.decode("ascii"))
    except InvalidDigest:
        return SignatureCheck(False, "digest mismatch: the signed content was altered")
    except InvalidSignature as exc:
        return SignatureCheck(False, f"signature does not verify: {exc}")
    except (InvalidCertificate, InvalidInput) as exc:
        return SignatureCheck(False, f"signature unusable: {exc}")
    return SignatureCheck(True, "ECDSA P-256/SHA-256 signature verifies")
