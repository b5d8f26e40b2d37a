"""SMETS1 Responses carry a real XML signature that verifies, and a bad, missing or off-profile one is caught.

signxml (an independent XML-DSig implementation) is the cross-check: it accepts our signatures and we accept
its; both refuse tampered copies. DCC's own tool is the cross-check of tests/test_dcc_interop.py.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from lxml import etree
from signxml import XMLSigner, XMLVerifier
from signxml.algorithms import SignatureConstructionMethod, SignatureMethod
from signxml.exceptions import InvalidInput, InvalidSignature

from s1sr.duis.namespaces import NSMAP
from s1sr.duis.request import RequestId
from s1sr.duis.response import Outcome, SMETS1Response, build_response, parse_response
from s1sr.duis.safe_xml import parse_xml
from s1sr.duis.schema import DuisSchema
from s1sr.duis.signing import (
    Credentials,
    SignatureCheck,
    _signer,
    generated_credentials,
    load_credentials,
    sign_element,
    verify_element,
)
from s1sr.errors import ConfigError

RID = RequestId("90-B3-D5-1F-30-01-00-00", "00-DB-12-34-56-78-90-A0", 4242)
DS = "http://www.w3.org/2000/09/xmldsig#"
EXC = "http://www.w3.org/2001/10/xml-exc-c14n#"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
ECDSA_SHA384 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
SHA512 = "http://www.w3.org/2001/04/xmlenc#sha512"
VERIFIES = "ECDSA P-256/SHA-256 signature verifies"
ALTERED = "digest mismatch: the signed content was altered"
NOT_OURS = (
    "signature does not verify: the signature value is not the trusted certificate's signature of this SignedInfo"
    " (another key, or SignedInfo altered)"
)
UNUSABLE = "signature unusable: "

# A request as DCC's signing tool signed it (RTDS CS11_3.3, DCC Boxed test User 90-B3-D5-1F-30-01-00-00,
# --preserveCounter): Transforms enveloped-signature alone, so the digest is over inclusive C14N 1.0, and a
# SignatureValue broken with CR LF as Java's base64 writes it.
DCC_SIGNED_REQUEST = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="no"?><sr:Request '
    b'xmlns:sr="http://www.dccinterface.co.uk/ServiceUserGateway" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" '
    b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" schemaVersion="5.4"><sr:Header><sr:RequestID>'
    b"90-B3-D5-1F-30-01-00-00:00-DB-12-34-56-78-90-A1:1000</sr:RequestID><sr:CommandVariant>1</sr:CommandVariant>"
    b"<sr:ServiceReference>3.3</sr:ServiceReference><sr:ServiceReferenceVariant>3.3</sr:ServiceReferenceVariant>"
    b"</sr:Header><sr:Body><sr:ClearEventLog/></sr:Body><ds:Signature><ds:SignedInfo><ds:CanonicalizationMethod "
    b'Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod '
    b'Algorithm="http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"/><ds:Reference URI=""><ds:Transforms>'
    b'<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/></ds:Transforms>'
    b'<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue>'
    b"OisP3oduhi4pinmpZLN0i1vcEMCtN0zSRFxEQUPdlyE=</ds:DigestValue></ds:Reference></ds:SignedInfo>"
    b"<ds:SignatureValue>V50p/R6oog2VolPuT4+VWrfyF7GrliJbFvXAEsIKDrqwgWD8fdLWaNF/qFKR5nFDbL5T0I8F3ony&#13;\n"
    b"eJQMMnVwtw==</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509IssuerSerial><ds:X509IssuerName>CN=Z1,OU=07"
    b"</ds:X509IssuerName><ds:X509SerialNumber>27572613927499351639968579586655397031</ds:X509SerialNumber>"
    b"</ds:X509IssuerSerial></ds:X509Data></ds:KeyInfo></ds:Signature></sr:Request>"
)
# DCC Boxed's public test certificate of that User (xml-sign-90B3D51F30010000-ds, in @smartdcc/dccboxed-keystore).
DCC_USER_CERT = b"""-----BEGIN CERTIFICATE-----
MIIBfzCCASWgAwIBAgIQFL5K0uodDk7H9xVr0kYkpzAKBggqhkjOPQQDAjAaMQsw
CQYDVQQLDAIwNzELMAkGA1UEAwwCWjEwIBcNMTgwMTAxMDAwMDAwWhgPMjExODAx
MDEwMDAwMDBaMCExCzAJBgNVBAsMAjg3MRIwEAYDVQQtAwkAkLPVHzABAAAwWTAT
BgcqhkjOPQIBBggqhkjOPQMBBwNCAASfiKvSIFxEFeHhGzLWEiBlfi045xQ/m4hL
+s1+SKlje0Vb//LRzGVaUobobAJaVN5cRd43ZiioDY+0cTTwvUcuo0QwQjAdBgNV
HSABAf8EEzARMA8GDSqGOgABhI+5DwECAQQwEQYDVR0OBAoECEusYLdMsaDbMA4G
A1UdDwEB/wQEAwIHgDAKBggqhkjOPQQDAgNIADBFAiEA4LXpqbs5lRubjOM4FtEy
7rowBKUyf62/hreDAIn3fEoCIDVnSEzk+wBn2NJ392d+S9sd03Wca5m4YVgyb2GT
eX8c
-----END CERTIFICATE-----
"""


def _response(response: SMETS1Response | None = None) -> bytes:
    response = response or SMETS1Response(RID, "4.18", "4.18", True, {"MeterBalance": 123000})
    return build_response(response, generated_credentials())


def _taken_out(xml: bytes) -> etree._Element:
    """The signed SMETS1 Response taken out of its DUIS Response as a document of its own, as a User does."""
    signed = parse_xml(xml).find(".//sr:SMETS1SignedResponse", NSMAP)
    assert signed is not None
    return etree.fromstring(etree.tostring(signed))


def _signature(document: etree._Element) -> etree._Element:
    found = document.find("ds:Signature", NSMAP)
    assert found is not None
    return found


def _one(document: etree._Element, path: str) -> etree._Element:
    found = document.find(path, NSMAP)
    assert found is not None, path
    return found


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _signxml_verdict(document: etree._Element, cert_pem: bytes, references: int = 1) -> bool:
    try:
        XMLVerifier().verify(copy.deepcopy(document), x509_cert=cert_pem.decode(), expect_references=references)
    except (InvalidSignature, InvalidInput):
        return False
    return True


def _resign(
    document: etree._Element,
    key: ec.EllipticCurvePrivateKey,
    *,
    c14n: str = EXC,
    method: str = ECDSA_SHA256,
    transforms: tuple[str, ...] = (ENVELOPED, EXC),
    digest_method: str = SHA256,
    references: int = 1,
    prefixes: str = "",
) -> etree._Element:
    """``document`` signed again by hand with any SignedInfo, for profiles our signer never writes."""
    signed = copy.deepcopy(document)
    signed.remove(_signature(signed))
    content = etree.tostring(signed, method="c14n", exclusive=transforms[-1] == EXC, with_comments=False)
    digest_hash = hashlib.sha512 if digest_method == SHA512 else hashlib.sha256
    digest = base64.b64encode(digest_hash(content).digest()).decode()
    transform_xml = "".join(f'<ds:Transform Algorithm="{t}"/>' for t in transforms)
    reference = (
        f'<ds:Reference URI=""><ds:Transforms>{transform_xml}</ds:Transforms>'
        f'<ds:DigestMethod Algorithm="{digest_method}"/><ds:DigestValue>{digest}</ds:DigestValue></ds:Reference>'
    )
    signature = etree.SubElement(signed, f"{{{DS}}}Signature", nsmap={"ds": DS})
    parameters = f'<ec:InclusiveNamespaces xmlns:ec="{EXC}" PrefixList="{prefixes}"/>' if prefixes else ""
    signature.append(
        etree.fromstring(
            f'<ds:SignedInfo xmlns:ds="{DS}"><ds:CanonicalizationMethod Algorithm="{c14n}">{parameters}'
            f'</ds:CanonicalizationMethod><ds:SignatureMethod Algorithm="{method}"/>{reference * references}'
            "</ds:SignedInfo>"
        )
    )
    signed_info = etree.tostring(
        signature[0],
        method="c14n",
        exclusive=c14n == EXC,
        with_comments=False,
        inclusive_ns_prefixes=prefixes.split() or None,
    )
    der = key.sign(signed_info, ec.ECDSA(hashes.SHA384() if method == ECDSA_SHA384 else hashes.SHA256()))
    r, s = decode_dss_signature(der)
    etree.SubElement(signature, f"{{{DS}}}SignatureValue").text = base64.b64encode(
        r.to_bytes(32, "big") + s.to_bytes(32, "big")
    ).decode()
    return signed


def _trusted_key() -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(generated_credentials().key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


# --- what we write -------------------------------------------------------------------------------------------


def test_a_signed_response_is_valid_duis_and_verifies(duis_schema: DuisSchema) -> None:
    root = parse_xml(_response())
    assert duis_schema.problems(root) == []
    read = parse_response(root, generated_credentials().cert_pem)
    assert read.signature == SignatureCheck(True, VERIFIES)
    signature = _one(root, ".//sr:SMETS1SignedResponse/ds:Signature")
    assert [e.get("Algorithm") for e in signature.iter() if e.get("Algorithm")] == [
        EXC,
        ECDSA_SHA256,
        ENVELOPED,
        EXC,
        SHA256,
    ]
    assert _one(signature, "ds:SignedInfo/ds:Reference").get("URI") == ""


def test_key_info_names_the_certificate_by_issuer_and_serial_as_dccs_tool_does() -> None:
    signature = _signature(_taken_out(_response()))
    cert = x509.load_pem_x509_certificate(generated_credentials().cert_pem)
    key_info = _one(signature, "ds:KeyInfo")
    assert [etree.QName(e).localname for e in key_info.iter()] == [
        "KeyInfo", "X509Data", "X509IssuerSerial", "X509IssuerName", "X509SerialNumber",
    ]  # fmt: skip
    assert _one(key_info, ".//ds:X509IssuerName").text == "CN=s1sr reference S1SP (test key)"
    assert _one(key_info, ".//ds:X509SerialNumber").text == str(cert.serial_number)


def test_the_signature_value_is_raw_r_and_s_not_der() -> None:
    signature = _signature(_taken_out(_response()))
    raw = base64.b64decode(_one(signature, "ds:SignatureValue").text or "")
    assert len(raw) == 64
    key = serialization.load_pem_private_key(generated_credentials().key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    signed_info = etree.tostring(_one(signature, "ds:SignedInfo"), method="c14n", exclusive=True)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key.public_key().verify(der, signed_info, ec.ECDSA(hashes.SHA256()))  # raises if not r || s


def test_only_the_envelope_is_indented_the_signed_response_has_no_whitespace_between_elements() -> None:
    xml = _response()
    assert b"\n  <sr:Header>\n" in xml
    signed = _taken_out(xml)
    between = [t for t in signed.xpath("//text()") if not t.strip()]
    assert between == []


def test_sign_element_leaves_its_input_alone_and_keeps_whitespace_inside_values() -> None:
    element = etree.fromstring(b'<a xmlns="urn:x">\n  <b>  two  spaces </b>\n  <c/>\n</a>')
    before = etree.tostring(element)
    signed = sign_element(element, generated_credentials())
    assert etree.tostring(element) == before
    assert etree.tostring(signed).startswith(b'<a xmlns="urn:x"><b>  two  spaces </b><c/><ds:Signature')


def test_signing_a_signed_element_replaces_its_signature_as_dccs_tool_does() -> None:
    document = _taken_out(_response())
    again = sign_element(document, generated_credentials())
    assert len(again.findall(".//ds:Signature", NSMAP)) == 1
    assert verify_element(again, generated_credentials().cert_pem) == SignatureCheck(True, VERIFIES)


def test_a_signature_deeper_inside_is_content_and_stays() -> None:
    root = parse_xml(_response())
    signed = sign_element(root, generated_credentials())  # a whole DUIS Response, as the DUIS transport signs it
    assert len(signed.findall("ds:Signature", NSMAP)) == 1
    inner = _one(signed, "sr:Body/sr:SMETS1ResponseMessage/sr:SMETS1SignedResponse")
    assert len(inner.findall("ds:Signature", NSMAP)) == 1
    assert verify_element(inner, generated_credentials().cert_pem) == SignatureCheck(True, VERIFIES)


def test_the_key_and_certificate_are_loaded_once_per_credentials() -> None:
    _signer.cache_clear()
    element = etree.fromstring(b"<a/>")
    for _ in range(3):
        sign_element(element, generated_credentials())
    assert (_signer.cache_info().misses, _signer.cache_info().hits) == (1, 2)


# --- signxml cross-check -------------------------------------------------------------------------------------

RESPONSES = [
    SMETS1Response(RID, "4.18", "4.18", True, {"MeterBalance": 123000}),
    SMETS1Response(RID, "2.5", "2.5", True),
    SMETS1Response(RID, "1.6", "1.6", True, {"Electricity/PaymentMode": "Prepayment"}),
    SMETS1Response(RID, "11.1", "11.1", False, outcomes=[Outcome(1, 2, "HAN-B busy: <firmware> & retry")]),
]


@pytest.mark.parametrize("response", RESPONSES, ids=[r.srv for r in RESPONSES])
def test_signxml_verifies_our_signatures(response: SMETS1Response) -> None:
    document = _taken_out(_response(response))
    assert _signxml_verdict(document, generated_credentials().cert_pem)


def test_we_verify_signxmls_signatures() -> None:
    credentials = generated_credentials()
    document = _taken_out(_response())
    document.remove(_signature(document))
    signer = XMLSigner(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=SignatureMethod.ECDSA_SHA256,
        digest_algorithm="sha256",
        c14n_algorithm=EXC,
    )
    signed = signer.sign(document, key=credentials.key_pem, cert=credentials.cert_pem.decode())
    assert verify_element(signed, credentials.cert_pem) == verify_element(_taken_out(_response()), credentials.cert_pem)
    assert verify_element(signed, credentials.cert_pem).valid


def _altered_value(d: etree._Element) -> None:
    _one(d, ".//ra:MeterBalance").text = "999000"


def _altered_value_and_digest(d: etree._Element) -> None:
    _altered_value(d)
    content = copy.deepcopy(d)
    content.remove(_signature(content))
    digest = hashlib.sha256(etree.tostring(content, method="c14n", exclusive=True)).digest()
    _one(d, ".//ds:DigestValue").text = base64.b64encode(digest).decode()


def _altered_signature_value(d: etree._Element) -> None:
    value = _one(d, "ds:Signature/ds:SignatureValue")
    raw = bytearray(base64.b64decode(value.text or ""))
    raw[40] ^= 1
    value.text = base64.b64encode(bytes(raw)).decode()


def _removed_signature(d: etree._Element) -> None:
    d.remove(_signature(d))


def _second_reference(d: etree._Element) -> None:
    reference = _one(d, ".//ds:Reference")
    reference.getparent().append(copy.deepcopy(reference))  # type: ignore[union-attr]


def _extra_transform(d: etree._Element) -> None:
    transforms = _one(d, ".//ds:Transforms")
    transforms.append(copy.deepcopy(transforms[-1]))


def _algorithm(path: str, uri: str) -> Callable[[etree._Element], None]:
    def change(d: etree._Element) -> None:
        _one(d, path).set("Algorithm", uri)

    return change


def _der_signature_value(d: etree._Element) -> None:
    value = _one(d, "ds:Signature/ds:SignatureValue")
    raw = base64.b64decode(value.text or "")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    value.text = base64.b64encode(der).decode()


def _signed_by_another_key(d: etree._Element) -> None:
    forged = _resign(d, ec.generate_private_key(ec.SECP256R1()))
    d.remove(_signature(d))
    d.append(_signature(forged))


# name, tamper, our reason (a regular expression when it starts with ^). signxml refuses every one of these.
TAMPERED: list[tuple[str, Callable[[etree._Element], None], str]] = [
    ("altered value", _altered_value, ALTERED),
    ("altered value, digest recomputed (SignedInfo altered)", _altered_value_and_digest, NOT_OURS),
    ("altered signature value", _altered_signature_value, NOT_OURS),
    ("signature removed", _removed_signature, "no ds:Signature on the SMETS1 Response"),
    ("signed by another key", _signed_by_another_key, NOT_OURS),
    (
        "second Reference",
        _second_reference,
        UNUSABLE + "SignedInfo holds CanonicalizationMethod, SignatureMethod, Reference, Reference;"
        " expected CanonicalizationMethod, SignatureMethod, Reference",
    ),
    (
        "extra transform",
        _extra_transform,
        UNUSABLE + f"transforms {ENVELOPED} + {EXC} + {EXC}, expected {ENVELOPED} + {EXC} or {ENVELOPED}",
    ),
    (
        "SignatureMethod ecdsa-sha384",
        _algorithm(".//ds:SignatureMethod", ECDSA_SHA384),
        UNUSABLE + f"SignatureMethod '{ECDSA_SHA384}', expected {ECDSA_SHA256}",
    ),
    (
        "DigestMethod sha512",
        _algorithm(".//ds:DigestMethod", SHA512),
        UNUSABLE + f"DigestMethod '{SHA512}', expected {SHA256}",
    ),
    (
        "CanonicalizationMethod inclusive C14N",
        _algorithm(".//ds:CanonicalizationMethod", C14N),
        UNUSABLE + f"CanonicalizationMethod '{C14N}', expected {EXC}",
    ),
    (
        "SignatureValue DER-encoded",
        _der_signature_value,
        r"^signature unusable: SignatureValue is 7[0-2] bytes, expected 64$",
    ),
]


@pytest.mark.parametrize(("tamper", "reason"), [t[1:] for t in TAMPERED], ids=[t[0] for t in TAMPERED])
def test_a_tampered_copy_is_refused_by_us_and_by_signxml(tamper: Callable[[etree._Element], None], reason: str) -> None:
    cert = generated_credentials().cert_pem
    document = _taken_out(_response())
    assert verify_element(document, cert).valid and _signxml_verdict(document, cert)
    tamper(document)
    check = verify_element(document, cert)
    assert not check.valid
    assert re.fullmatch(reason[1:], check.reason) if reason.startswith("^") else check.reason == reason
    assert not _signxml_verdict(document, cert)


def test_an_altered_value_breaks_the_signature_inside_a_duis_response() -> None:
    tampered = _response().replace(b"<ra:MeterBalance>123000<", b"<ra:MeterBalance>999000<")
    read = parse_response(parse_xml(tampered), generated_credentials().cert_pem)
    assert read.signature.reason == ALTERED


# --- off profile, though correctly signed: refused by our checks, not by the mathematics ---------------------

OFF_PROFILE: list[tuple[str, dict[str, object], str]] = [
    (
        "two References",
        {"references": 2},
        UNUSABLE + "SignedInfo holds CanonicalizationMethod, SignatureMethod, Reference, Reference;"
        " expected CanonicalizationMethod, SignatureMethod, Reference",
    ),
    (
        "extra transform",
        {"transforms": (ENVELOPED, ENVELOPED, EXC)},
        UNUSABLE + f"transforms {ENVELOPED} + {ENVELOPED} + {EXC}, expected {ENVELOPED} + {EXC} or {ENVELOPED}",
    ),
    ("ecdsa-sha384", {"method": ECDSA_SHA384}, UNUSABLE + f"SignatureMethod '{ECDSA_SHA384}', expected {ECDSA_SHA256}"),
    ("sha512 digest", {"digest_method": SHA512}, UNUSABLE + f"DigestMethod '{SHA512}', expected {SHA256}"),
    ("inclusive C14N", {"c14n": C14N}, UNUSABLE + f"CanonicalizationMethod '{C14N}', expected {EXC}"),
    (
        "InclusiveNamespaces parameter",
        {"prefixes": "sr"},
        UNUSABLE + "CanonicalizationMethod has parameters; none are expected",
    ),
]


@pytest.mark.parametrize(("options", "reason"), [t[1:] for t in OFF_PROFILE], ids=[t[0] for t in OFF_PROFILE])
def test_a_correct_signature_outside_the_profile_is_refused(options: dict[str, object], reason: str) -> None:
    cert = generated_credentials().cert_pem
    document = _resign(_taken_out(_response()), _trusted_key(), **options)  # type: ignore[arg-type]
    if "prefixes" not in options:  # signxml's own schema refuses InclusiveNamespaces; the rest it accepts
        assert _signxml_verdict(document, cert, int(options.get("references", 1)))  # type: ignore[call-overload]
    assert verify_element(document, cert) == SignatureCheck(False, reason)


def test_dccs_profile_enveloped_transform_alone_and_inclusive_c14n_verifies() -> None:
    document = _resign(_taken_out(_response()), _trusted_key(), transforms=(ENVELOPED,))
    assert verify_element(document, generated_credentials().cert_pem).valid


def _second_signature(d: etree._Element) -> None:
    d.insert(0, copy.deepcopy(_signature(d)))


def _signature_first(d: etree._Element) -> None:
    d.insert(0, _signature(d))


def _text(path: str, text: str) -> Callable[[etree._Element], None]:
    def change(d: etree._Element) -> None:
        _one(d, path).text = text

    return change


MALFORMED: list[tuple[str, Callable[[etree._Element], None], str]] = [
    ("second Signature", _second_signature, "2 ds:Signature elements, exactly one is expected"),
    ("Signature not last", _signature_first, "ds:Signature is not the last child of SMETS1 Response"),
    (
        "Reference URI",
        lambda d: _one(d, ".//ds:Reference").set("URI", "#x"),
        "Reference URI is '#x', expected \"\" (the document)",
    ),
    ("short DigestValue", _text(".//ds:DigestValue", "bm90IGEgZGlnZXN0"), "DigestValue is 12 bytes, expected 32"),
    ("SignatureValue not base64", _text(".//ds:SignatureValue", "not base64!"), "SignatureValue is not base64"),
    (
        "ds:Object",
        lambda d: etree.SubElement(_signature(d), f"{{{DS}}}Object"),
        "Signature holds SignedInfo, SignatureValue, KeyInfo, Object; expected SignedInfo, SignatureValue, KeyInfo",
    ),
]


@pytest.mark.parametrize(("tamper", "reason"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_a_signature_out_of_place_or_malformed_is_refused(
    tamper: Callable[[etree._Element], None], reason: str
) -> None:
    document = _taken_out(_response())
    tamper(document)
    assert verify_element(document, generated_credentials().cert_pem) == SignatureCheck(False, UNUSABLE + reason)


def test_dccs_profile_on_an_inner_element_digests_every_namespace_in_scope_as_taken_out() -> None:
    """Inclusive C14N of an element taken out of its envelope writes the envelope's namespace declarations too."""
    xml = _response().replace(b"<sr:Response ", b'<sr:Response xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ')
    root = parse_xml(xml)
    inner = _one(root, ".//sr:SMETS1SignedResponse")
    taken_out = etree.fromstring(etree.tostring(inner))
    assert "xsi" in taken_out.nsmap  # unused inside, but in scope: part of the inclusive digest
    inner.getparent().replace(inner, _resign(taken_out, _trusted_key(), transforms=(ENVELOPED,)))  # type: ignore[union-attr]
    assert parse_response(root, generated_credentials().cert_pem).signature == SignatureCheck(True, VERIFIES)


def test_text_added_after_the_signature_is_covered_by_the_digest() -> None:
    document = _taken_out(_response())
    _signature(document).tail = "injected"  # the enveloped transform removes the element, not what follows it
    assert verify_element(document, generated_credentials().cert_pem) == SignatureCheck(False, ALTERED)


def test_a_document_c14n_refuses_is_a_verdict_not_an_exception() -> None:
    document = _taken_out(_response())
    etree.SubElement(_one(document, "sr:SMETS1Response"), "{relative}x")  # a relative namespace URI
    check = verify_element(document, generated_credentials().cert_pem)
    assert check == SignatureCheck(False, UNUSABLE + "the document cannot be canonicalised (C14N refuses it)")


# --- trust comes from the caller, never from KeyInfo ---------------------------------------------------------


def test_a_certificate_in_key_info_is_not_trusted() -> None:
    attacker = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "attacker")])
    now = x509.load_pem_x509_certificate(generated_credentials().cert_pem).not_valid_before_utc
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(attacker.public_key())
        .serial_number(1).not_valid_before(now).not_valid_after(now.replace(year=now.year + 1))
        .sign(attacker, hashes.SHA256())
    )  # fmt: skip
    attacker_pem = cert.public_bytes(serialization.Encoding.PEM)
    document = _taken_out(_response())
    document.remove(_signature(document))
    forged = XMLSigner(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=SignatureMethod.ECDSA_SHA256,
        c14n_algorithm=EXC,
    ).sign(document, key=_key_pem(attacker), cert=attacker_pem.decode())
    assert _one(forged, ".//ds:X509Certificate").text
    assert verify_element(forged, generated_credentials().cert_pem) == SignatureCheck(False, NOT_OURS)
    assert verify_element(forged, attacker_pem).valid  # it is the caller's certificate that decides


def test_a_signature_by_another_key_naming_the_trusted_certificate_does_not_verify() -> None:
    credentials = generated_credentials()
    other = Credentials(_key_pem(ec.generate_private_key(ec.SECP256R1())), credentials.cert_pem, "forged")
    document = _taken_out(_response())
    document.remove(_signature(document))
    forged = sign_element(document, other)
    assert verify_element(forged, credentials.cert_pem).reason == NOT_OURS


def test_the_trusted_certificate_may_be_der() -> None:
    cert = x509.load_pem_x509_certificate(generated_credentials().cert_pem)
    der = cert.public_bytes(serialization.Encoding.DER)
    assert verify_element(_taken_out(_response()), der).valid


def test_an_unusable_trusted_certificate_is_reported() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "rsa")])
    now = x509.load_pem_x509_certificate(generated_credentials().cert_pem).not_valid_before_utc
    rsa_cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key()).serial_number(2)
        .not_valid_before(now).not_valid_after(now.replace(year=now.year + 1)).sign(key, hashes.SHA256())
    ).public_bytes(serialization.Encoding.PEM)  # fmt: skip
    document = _taken_out(_response())
    assert (
        verify_element(document, rsa_cert).reason == "trusted certificate unusable: its public key is not ECDSA P-256"
    )
    assert verify_element(document, b"garbage").reason.startswith(
        "trusted certificate unusable: not an X.509 certificate"
    )


# --- whitespace as DUIS validators see it ---------------------------------------------------------------------


def test_indenting_a_signed_document_keeps_it_valid_as_for_dccs_validator() -> None:
    document = _taken_out(_response())
    etree.indent(document)
    assert b"\n  <sr:SMETS1Response>" in etree.tostring(document)
    assert verify_element(document, generated_credentials().cert_pem).valid
    assert not _signxml_verdict(document, generated_credentials().cert_pem)  # signxml keeps the whitespace


def test_a_signature_over_indented_content_is_refused_with_the_reason() -> None:
    credentials = generated_credentials()
    document = _taken_out(_response())
    document.remove(_signature(document))
    etree.indent(document)  # what the S1SP did before: indent, then sign with signxml
    signed = XMLSigner(
        method=SignatureConstructionMethod.enveloped,
        signature_algorithm=SignatureMethod.ECDSA_SHA256,
        c14n_algorithm=EXC,
    ).sign(document, key=credentials.key_pem, cert=credentials.cert_pem.decode())
    assert _signxml_verdict(signed, credentials.cert_pem)
    assert verify_element(signed, credentials.cert_pem).reason == (
        "digest mismatch: the signature covers whitespace between elements, which DUIS validators"
        " (schema-validating parsers, DCC's signing tool) drop before checking; sign the content"
        " without indentation"
    )


# --- a signature over a document that holds another: a DUIS Response around a SMETS1 Response ---------------


def _enveloped_response() -> etree._Element:
    """A whole DUIS Response signed as a document (as DCC or the S1SP signs it), the S1SP's signature inside."""
    return sign_element(parse_xml(_response()), generated_credentials())


def test_a_signature_nested_in_the_signed_content_is_content_and_the_document_verifies() -> None:
    document = _enveloped_response()
    assert len(document.findall(".//ds:Signature", NSMAP)) == 2
    assert _one(document, "ds:Signature") is document[-1]
    assert verify_element(document, generated_credentials().cert_pem) == SignatureCheck(True, VERIFIES)
    inner = _one(document, ".//sr:SMETS1SignedResponse")
    assert verify_element(inner, generated_credentials().cert_pem) == SignatureCheck(True, VERIFIES)  # its own


def test_dccs_profile_over_a_document_holding_a_nested_signature_verifies() -> None:
    document = _resign(_enveloped_response(), _trusted_key(), transforms=(ENVELOPED,))  # inclusive C14N
    assert len(document.findall(".//ds:Signature", NSMAP)) == 2
    assert verify_element(document, generated_credentials().cert_pem) == SignatureCheck(True, VERIFIES)


def _inner_value(d: etree._Element) -> None:
    _altered_signature_value(_one(d, ".//sr:SMETS1SignedResponse"))


TWO_ON_TOP = "2 ds:Signature elements, exactly one is expected"
NESTED_TAMPERED: list[tuple[str, Callable[[etree._Element], None], str]] = [
    ("value inside the nested signed element", _altered_value, ALTERED),
    ("nested signature value", _inner_value, ALTERED),
    ("nested signature removed", lambda d: _removed_signature(_one(d, ".//sr:SMETS1SignedResponse")), ALTERED),
    ("enveloped signature removed", _removed_signature, "no ds:Signature on the Response"),
    ("second signature on the signed element", _second_signature, UNUSABLE + TWO_ON_TOP),
    (
        "second signature on the signed element, last",
        lambda d: d.append(copy.deepcopy(_signature(d))),
        UNUSABLE + TWO_ON_TOP,
    ),
    ("enveloped signature not last", _signature_first, UNUSABLE + "ds:Signature is not the last child of Response"),
    (
        "signature inside the enveloped signature",
        lambda d: _one(d, "ds:Signature/ds:KeyInfo").append(copy.deepcopy(_signature(d))),
        UNUSABLE + "a ds:Signature inside the enveloped ds:Signature",
    ),
]


@pytest.mark.parametrize(("tamper", "reason"), [t[1:] for t in NESTED_TAMPERED], ids=[t[0] for t in NESTED_TAMPERED])
def test_around_a_nested_signature_the_rest_of_the_profile_holds(
    tamper: Callable[[etree._Element], None], reason: str
) -> None:
    document = _enveloped_response()
    tamper(document)
    assert verify_element(document, generated_credentials().cert_pem) == SignatureCheck(False, reason)


# --- DCC's tool's own signatures (literal, so this runs without Java) ------------------------------------------


def test_a_request_signed_by_dccs_tool_verifies() -> None:
    assert verify_element(parse_xml(DCC_SIGNED_REQUEST), DCC_USER_CERT) == SignatureCheck(True, VERIFIES)


def test_a_request_signed_by_dccs_tool_and_altered_is_refused() -> None:
    altered = DCC_SIGNED_REQUEST.replace(b"A1:1000<", b"A1:1001<")
    assert verify_element(parse_xml(altered), DCC_USER_CERT).reason == ALTERED
    assert verify_element(parse_xml(DCC_SIGNED_REQUEST), generated_credentials().cert_pem).reason == NOT_OURS


# --- credentials ------------------------------------------------------------------------------------------------


def test_user_supplied_credentials_must_be_p256(tmp_path: Path) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_path = tmp_path / "key.pem"
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    cert_path = tmp_path / "cert.pem"
    cert_path.write_bytes(generated_credentials().cert_pem)
    with pytest.raises(ConfigError, match="P-256"):
        load_credentials(key_path, cert_path)


def test_a_key_and_a_certificate_that_do_not_belong_together_are_refused(tmp_path: Path) -> None:
    (tmp_path / "key.pem").write_bytes(_key_pem(ec.generate_private_key(ec.SECP256R1())))
    (tmp_path / "cert.pem").write_bytes(generated_credentials().cert_pem)
    with pytest.raises(ConfigError, match="do not belong together"):
        load_credentials(tmp_path / "key.pem", tmp_path / "cert.pem")


def test_user_supplied_p256_credentials_sign_and_verify(tmp_path: Path) -> None:
    credentials = generated_credentials()
    (tmp_path / "key.pem").write_bytes(credentials.key_pem)
    (tmp_path / "cert.pem").write_bytes(credentials.cert_pem)
    loaded = load_credentials(tmp_path / "key.pem", tmp_path / "cert.pem")
    xml = build_response(SMETS1Response(RID, "2.5", "2.5", True), loaded)
    assert parse_response(parse_xml(xml), loaded.cert_pem).signature.valid
