"""XML digital signatures on DUIS documents: ECDSA P-256 / SHA-256, exclusive C14N, enveloped.

The S1SP signs each ``sr:SMETS1SignedResponse`` as a document of its own
(``Reference URI=""``), and a User verifies it the same way, on a copy of that
element taken out of the DUIS ``sr:Response``; whole DUIS messages on the wire
(``sr:Request``, ``sr:Response``) are signed and checked the same way, as documents
that may carry such a signed element inside. The harness generates a test key
and self-signed certificate once per process unless the user supplies a key
pair (PEM files) through :func:`load_credentials`.

Signatures are made and checked here directly on lxml's C14N and
``cryptography``'s ECDSA, to one profile, the one DCC's own signing tool (the
DCC Boxed ``xmldsig`` JAR) writes and accepts:

- the enveloped ``ds:Signature`` is the last child of the signed element, the only
  signature among its children, and holds no other; signatures deeper inside the signed
  content (the S1SP's on the SMETS1 Response that a DUIS Response carries) are content:
  the digest covers them like any other, and their own reader checks them. As the
  ``Reference`` is to the whole document (``URI=""``), never to an element by ID, a
  signature elsewhere cannot stand in for the enveloped one (no signature wrapping);
- ``SignedInfo``: ``CanonicalizationMethod`` exclusive C14N, ``SignatureMethod``
  ECDSA-SHA256, exactly one ``Reference`` with ``URI=""``, ``DigestMethod`` SHA-256;
- the ``Reference`` transforms are enveloped-signature then exclusive C14N (what
  this module writes: the digest then does not depend on which ancestor namespace
  declarations travel with an element taken out of its envelope), or
  enveloped-signature alone (what DCC's tool writes: the digest is then over
  inclusive C14N 1.0, the XML-DSig default);
- ``SignatureValue`` is ``r || s``, 32 bytes each (XML-DSig's ECDSA encoding, not DER);
- ``KeyInfo`` names the certificate by ``X509IssuerSerial``, as DCC's tool does.
  A verifier never takes a key or certificate from ``KeyInfo``: the caller says
  which certificate it trusts.

DUIS validators parse with the DUIS schema and drop the whitespace between
elements (ignorable whitespace) before they canonicalise; DCC's tool does. So the
signer signs a copy without that whitespace, and the verifier drops it too before
checking, as they do: indenting a signed document does not break its signature,
and a signature made over indented content fails here as it fails there.
"""

from __future__ import annotations

import base64
import binascii
import copy
import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.x509.oid import NameOID
from lxml import etree

from s1sr.errors import ConfigError

DS = "http://www.w3.org/2000/09/xmldsig#"
C14N_EXCLUSIVE = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"

SIGNED_TRANSFORMS = (ENVELOPED, C14N_EXCLUSIVE)

#: Reference transforms accepted, each with whether the referenced document is canonicalised exclusively.
TRANSFORM_PROFILES: dict[tuple[str, ...], bool] = {
    SIGNED_TRANSFORMS: True,  # what sign_element writes
    (ENVELOPED,): False,  # what DCC's signing tool writes: inclusive C14N 1.0 by XML-DSig's default
}


def _ds(local: str) -> str:
    return f"{{{DS}}}{local}"


_SIGNATURE = _ds("Signature")
_TRANSFORM = _ds("Transform")
#: The sequences of child elements the profile allows in each element of a signature.
_SHAPES: dict[str, tuple[tuple[str, ...], ...]] = {
    "Signature": (
        (_ds("SignedInfo"), _ds("SignatureValue")),
        (_ds("SignedInfo"), _ds("SignatureValue"), _ds("KeyInfo")),
    ),
    "SignedInfo": ((_ds("CanonicalizationMethod"), _ds("SignatureMethod"), _ds("Reference")),),
    "Reference": ((_ds("Transforms"), _ds("DigestMethod"), _ds("DigestValue")),),
}
_FIELD = 32  # bytes of r and of s for P-256
_DIGEST_SIZE = 32
_DIGEST_SLOT = "DIGEST"
_ECDSA = ec.ECDSA(hashes.SHA256())
# Whitespace after a tag in canonical XML (C14N writes a CR as &#xD; and escapes ">" in text, not in
# attributes): cheap to look for, so the tree is walked to drop whitespace only when there may be some.
# One regular expression: a fifth of the time of four substring searches.
_AFTER_A_TAG = re.compile(rb">(?:[ \n\t]|&#xD;)")
# Whitespace between elements is ignorable except inside the mixed-content types of the XML-DSig schema,
# where a schema-validating parser keeps it.
_ELEMENT_ONLY_WHITESPACE = etree.XPath(
    "descendant-or-self::*[* and not(self::ds:CanonicalizationMethod or self::ds:SignatureMethod"
    " or self::ds:Transform or self::ds:DigestMethod or self::ds:KeyInfo or self::ds:KeyValue or self::ds:Object"
    " or self::ds:SignatureProperty)]/text()[not(normalize-space())]",
    namespaces={"ds": DS},
)


@dataclass(frozen=True)
class Credentials:
    """A signing key and the certificate that verifies it (both PEM)."""

    key_pem: bytes
    cert_pem: bytes
    source: str


def self_signed(subject: x509.Name, valid_days: int, source: str) -> Credentials:
    """A fresh P-256 key and a certificate for it naming ``subject``, self-signed, valid from 5 minutes ago."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=valid_days))
        .sign(key, hashes.SHA256())
    )
    return Credentials(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        cert.public_bytes(serialization.Encoding.PEM),
        source,
    )


@cache
def generated_credentials() -> Credentials:
    """A fresh P-256 key and self-signed certificate, made once per process."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "s1sr reference S1SP (test key)")])
    return self_signed(name, 30, "generated test key")


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


@dataclass(frozen=True)
class _Signer:
    """A credential's key, loaded once, and its ``ds:Signature`` template (values empty, ``KeyInfo`` filled)."""

    key: ec.EllipticCurvePrivateKey
    template: etree._Element
    signed_info: tuple[bytes, bytes]  # the template's SignedInfo as exclusive C14N writes it, split at the digest


@lru_cache(maxsize=16)
def _signer(credentials: Credentials) -> _Signer:
    key = serialization.load_pem_private_key(credentials.key_pem, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ConfigError("the signing key is not an ECDSA P-256 key", credentials.source, "DUIS signs with P-256")
    cert = x509.load_pem_x509_certificate(credentials.cert_pem)
    signature = etree.Element(_ds("Signature"), nsmap={"ds": DS})
    signed_info = etree.SubElement(signature, _ds("SignedInfo"))
    etree.SubElement(signed_info, _ds("CanonicalizationMethod"), Algorithm=C14N_EXCLUSIVE)
    etree.SubElement(signed_info, _ds("SignatureMethod"), Algorithm=ECDSA_SHA256)
    reference = etree.SubElement(signed_info, _ds("Reference"), URI="")
    transforms = etree.SubElement(reference, _ds("Transforms"))
    for algorithm in SIGNED_TRANSFORMS:
        etree.SubElement(transforms, _ds("Transform"), Algorithm=algorithm)
    etree.SubElement(reference, _ds("DigestMethod"), Algorithm=SHA256)
    etree.SubElement(reference, _ds("DigestValue")).text = _DIGEST_SLOT
    etree.SubElement(signature, _ds("SignatureValue"))
    issuer_serial = etree.SubElement(
        etree.SubElement(etree.SubElement(signature, _ds("KeyInfo")), _ds("X509Data")), _ds("X509IssuerSerial")
    )
    etree.SubElement(issuer_serial, _ds("X509IssuerName")).text = cert.issuer.rfc4514_string()
    etree.SubElement(issuer_serial, _ds("X509SerialNumber")).text = str(cert.serial_number)
    before, after = _c14n(signed_info, exclusive=True).split(_DIGEST_SLOT.encode())
    return _Signer(key, signature, (before, after))


def sign_element(element: etree._Element, credentials: Credentials) -> etree._Element:
    """Return a signed copy of ``element`` with ``ds:Signature`` as its last child.

    The copy is signed as a document of its own, without the whitespace between
    elements (DUIS validators drop it before checking, so a signature over it would
    not verify there) and without the enveloped signature it held, if any (as DCC's
    tool replaces it); a signature deeper inside, such as the S1SP's on a SMETS1
    Response that a DUIS Response carries, is content and stays. ``element``
    itself is not changed.
    """
    signed = copy.deepcopy(element)
    signed.tail = None
    for old in [child for child in signed if child.tag == _SIGNATURE]:
        _enveloped(old)
    append_signature(signed, credentials)
    return signed


def append_signature(element: etree._Element, credentials: Credentials) -> None:
    """Sign ``element`` in place, as a document of its own, and append its ``ds:Signature``.

    For a signer that built ``element`` itself and holds no other reference to it (the S1SP's
    SMETS1 Response): no copy is made. ``element`` must hold no enveloped signature yet; whitespace
    between its elements, if any, is dropped first, as :func:`sign_element` drops it.
    """
    signer = _signer(credentials)
    content = _c14n(element, exclusive=True)
    if _may_hold_whitespace(content):
        _drop_ignorable_whitespace(element)
        content = _c14n(element, exclusive=True)
    digest = base64.b64encode(hashlib.sha256(content).digest())
    r, s = decode_dss_signature(signer.key.sign(digest.join(signer.signed_info), _ECDSA))
    signature = copy.deepcopy(signer.template)
    signature[0][2][2].text = digest.decode("ascii")  # SignedInfo/Reference/DigestValue
    signature[1].text = base64.b64encode(r.to_bytes(_FIELD, "big") + s.to_bytes(_FIELD, "big")).decode("ascii")
    element.append(signature)


def _c14n(element: etree._Element, exclusive: bool) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=exclusive, with_comments=False)


def _may_hold_whitespace(canonical: bytes) -> bool:
    return _AFTER_A_TAG.search(canonical) is not None


def _drop_ignorable_whitespace(root: etree._Element) -> None:
    """Remove whitespace-only text between elements, as a schema-validating parser does."""
    found = _ELEMENT_ONLY_WHITESPACE(root)
    for text in found if isinstance(found, list) else ():
        if not isinstance(text, etree._ElementUnicodeResult) or (parent := text.getparent()) is None:
            continue
        if text.is_text:
            parent.text = None
        else:
            parent.tail = None


@dataclass(frozen=True)
class SignatureCheck:
    """The verdict on one signature: ``valid`` and, when not, why."""

    valid: bool
    reason: str


VERIFIES = "ECDSA P-256/SHA-256 signature verifies"
ALTERED = "digest mismatch: the signed content was altered"
WHITESPACE = (
    "digest mismatch: the signature covers whitespace between elements, which DUIS validators"
    " (schema-validating parsers, DCC's signing tool) drop before checking; sign the content without indentation"
)
NOT_THE_SIGNERS = (
    "signature does not verify: the signature value is not the trusted certificate's signature of this SignedInfo"
    " (another key, or SignedInfo altered)"
)


class _Refused(Exception):
    """A signature refused before or during the check; the message is the reason."""


@dataclass(frozen=True)
class _Profile:
    """What the ``SignedInfo`` of a signature in the accepted profile says."""

    signed_info: etree._Element
    exclusive: bool
    digest: bytes
    value: bytes


def verify_element(element: etree._Element, cert_pem: bytes) -> SignatureCheck:
    """Verify the enveloped signature of ``element``, taken as a document of its own.

    Valid only when the signature is in the profile described in this module, the
    digest recomputed over the content matches, and the signature value verifies
    with the public key of ``cert_pem`` (PEM or DER), the certificate the caller
    trusts; ``KeyInfo`` is not used. Signatures inside the signed content (a DUIS
    Response's SMETS1 Response) are content, not checked here. ``element`` itself is
    not changed.
    """
    trusted = _trusted_key(cert_pem)
    if isinstance(trusted, str):
        return SignatureCheck(False, f"trusted certificate unusable: {trusted}")
    document = _own_document(element, exclusive=True)
    try:
        signature = _the_signature(document)
        profile = _read_profile(signature)
        if not profile.exclusive and element.getparent() is not None:
            document = _own_document(element, exclusive=False)
            signature = _the_signature(document)
            profile = _read_profile(signature)
        signed_info = _c14n(profile.signed_info, exclusive=True)
        _enveloped(signature)
        content = _c14n(document, profile.exclusive)
        if _may_hold_whitespace(content) or _may_hold_whitespace(signed_info):
            _drop_ignorable_whitespace(document)
            _drop_ignorable_whitespace(signature)
            signed_info, content = _c14n(profile.signed_info, exclusive=True), _c14n(document, profile.exclusive)
        if not hmac.compare_digest(hashlib.sha256(content).digest(), profile.digest):
            raise _Refused(_why_digest_differs(element, profile))
        r, s = profile.value[:_FIELD], profile.value[_FIELD:]
        try:
            trusted.verify(
                encode_dss_signature(int.from_bytes(r, "big"), int.from_bytes(s, "big")), signed_info, _ECDSA
            )
        except InvalidSignature:
            raise _Refused(NOT_THE_SIGNERS) from None
    except _Refused as refused:
        return SignatureCheck(False, str(refused))
    except etree.C14NError:
        return SignatureCheck(False, "signature unusable: the document cannot be canonicalised (C14N refuses it)")
    return SignatureCheck(True, VERIFIES)


def _own_document(element: etree._Element, exclusive: bool) -> etree._Element:
    """A copy of ``element`` as a document of its own, as a User takes it out of its envelope.

    Inclusive C14N writes every namespace declaration in scope, which serialising the element
    carries along; lxml's copy of an inner element keeps only the declarations it uses.
    """
    if exclusive or element.getparent() is None:
        document = copy.deepcopy(element)
    else:
        document = etree.fromstring(etree.tostring(element))
    document.tail = None
    return document


@lru_cache(maxsize=64)
def _trusted_key(cert_pem: bytes) -> ec.EllipticCurvePublicKey | str:
    """The P-256 public key of a trusted certificate (PEM or DER), or why there is none."""
    try:
        load: Callable[[bytes], x509.Certificate] = (
            x509.load_pem_x509_certificate if b"-----BEGIN" in cert_pem else x509.load_der_x509_certificate
        )
        key = load(cert_pem).public_key()
    except ValueError as exc:
        return f"not an X.509 certificate ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        return "its public key is not ECDSA P-256"
    return key


def _the_signature(document: etree._Element) -> etree._Element:
    """The enveloped ``ds:Signature``: the document's last child element, its only child signature, holding none."""
    children = _elements(document)
    found = [child for child in children if child.tag == _SIGNATURE]
    if not found:
        raise _Refused(f"no ds:Signature on the {_described(document)}")
    if len(found) > 1:
        raise _Refused(f"signature unusable: {len(found)} ds:Signature elements, exactly one is expected")
    if found[0] is not children[-1]:
        raise _Refused(f"signature unusable: ds:Signature is not the last child of {_described(document)}")
    if next(found[0].iterdescendants(_SIGNATURE), None) is not None:
        raise _Refused("signature unusable: a ds:Signature inside the enveloped ds:Signature")
    return found[0]


def _enveloped(signature: etree._Element) -> None:
    """The enveloped-signature transform: remove the signature element, but not the text that follows it."""
    parent, previous = signature.getparent(), signature.getprevious()
    assert parent is not None
    if signature.tail:  # lxml would take it away with the element
        if previous is not None:
            previous.tail = (previous.tail or "") + signature.tail
        else:
            parent.text = (parent.text or "") + signature.tail
    parent.remove(signature)


def _described(document: etree._Element) -> str:
    local = etree.QName(document).localname
    return "SMETS1 Response" if local == "SMETS1SignedResponse" else local


def _read_profile(signature: etree._Element) -> _Profile:
    """Check ``signature`` against the accepted profile, element by element; return what it says."""
    signed_info, value, *_key_info = _children(signature, "Signature")
    method, algorithm, reference = _children(signed_info, "SignedInfo")
    _algorithm(method, C14N_EXCLUSIVE)
    _algorithm(algorithm, ECDSA_SHA256)
    if reference.get("URI") != "":
        raise _Refused(f'signature unusable: Reference URI is {reference.get("URI")!r}, expected "" (the document)')
    transforms, digest_method, digest_value = _children(reference, "Reference")
    chain = []
    for transform in _elements(transforms):
        if transform.tag != _TRANSFORM or (len(transform) and _elements(transform)):
            raise _Refused(f"signature unusable: unexpected {etree.QName(transform).localname} in Transforms")
        chain.append(transform.get("Algorithm", ""))
    exclusive = TRANSFORM_PROFILES.get(tuple(chain))
    if exclusive is None:
        expected = " or ".join(" + ".join(p) for p in TRANSFORM_PROFILES)
        raise _Refused(f"signature unusable: transforms {' + '.join(chain) or '(none)'}, expected {expected}")
    _algorithm(digest_method, SHA256)
    digest = _base64(digest_value, "DigestValue", _DIGEST_SIZE)
    return _Profile(signed_info, exclusive, digest, _base64(value, "SignatureValue", 2 * _FIELD))


def _elements(parent: etree._Element) -> list[etree._Element]:
    """The child elements of ``parent`` (not its comments or processing instructions)."""
    return list(parent.iterchildren(tag=etree.Element))


def _children(parent: etree._Element, name: str) -> list[etree._Element]:
    """The child elements of ``parent``, which must be one of the sequences the profile allows there."""
    found = _elements(parent)
    if tuple(child.tag for child in found) not in _SHAPES[name]:
        shown = ", ".join(etree.QName(child).localname for child in found) or "nothing"
        expected = ", ".join(etree.QName(tag).localname for tag in _SHAPES[name][-1])
        raise _Refused(f"signature unusable: {name} holds {shown}; expected {expected}")
    return found


def _algorithm(element: etree._Element, expected: str) -> None:
    if element.get("Algorithm") != expected:
        name = etree.QName(element).localname
        raise _Refused(f"signature unusable: {name} {element.get('Algorithm')!r}, expected {expected}")
    if len(element) and _elements(element):
        raise _Refused(f"signature unusable: {etree.QName(element).localname} has parameters; none are expected")


def _base64(element: etree._Element, name: str, size: int) -> bytes:
    text = "".join((element.text or "").split())
    try:
        decoded = base64.b64decode(text, validate=True)
    except binascii.Error:
        raise _Refused(f"signature unusable: {name} is not base64") from None
    if len(decoded) != size:
        raise _Refused(f"signature unusable: {name} is {len(decoded)} bytes, expected {size}")
    return decoded


def _why_digest_differs(original: etree._Element, profile: _Profile) -> str:
    """Say so when the digest was made over whitespace between elements, which DUIS validators drop."""
    document = _own_document(original, profile.exclusive)
    _enveloped(_elements(document)[-1])  # the signature, found last by _the_signature
    if hmac.compare_digest(hashlib.sha256(_c14n(document, profile.exclusive)).digest(), profile.digest):
        return WHITESPACE
    return ALTERED
