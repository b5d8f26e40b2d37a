"""SMETS1 Responses carry a real XML signature that verifies, and a bad or missing one is caught."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from lxml import etree

from s1sr.duis.namespaces import NSMAP
from s1sr.duis.request import RequestId
from s1sr.duis.response import SMETS1Response, build_response, parse_response
from s1sr.duis.safe_xml import parse_xml
from s1sr.duis.schema import DuisSchema
from s1sr.duis.signing import generated_credentials, load_credentials
from s1sr.errors import ConfigError

RID = RequestId("90-B3-D5-1F-30-01-00-00", "00-DB-12-34-56-78-90-A0", 4242)


def _response() -> bytes:
    response = SMETS1Response(RID, "4.18", "4.18", True, {"MeterBalance": 123000})
    return build_response(response, generated_credentials())


def test_a_signed_response_is_valid_duis_and_verifies(duis_schema: DuisSchema) -> None:
    root = parse_xml(_response())
    assert duis_schema.problems(root) == []
    read = parse_response(root, generated_credentials().cert_pem)
    assert read.signature.valid, read.signature.reason
    signature = root.find(".//sr:SMETS1SignedResponse/ds:Signature", NSMAP)
    assert signature is not None
    methods = {e.get("Algorithm") for e in signature.iter() if e.get("Algorithm")}
    assert "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256" in methods
    assert "http://www.w3.org/2001/10/xml-exc-c14n#" in methods
    assert "http://www.w3.org/2000/09/xmldsig#enveloped-signature" in methods


def test_an_altered_value_breaks_the_signature() -> None:
    tampered = _response().replace(b"<ra:MeterBalance>123000<", b"<ra:MeterBalance>999000<")
    read = parse_response(parse_xml(tampered), generated_credentials().cert_pem)
    assert not read.signature.valid
    assert "digest mismatch" in read.signature.reason


def test_a_missing_signature_is_reported() -> None:
    root = parse_xml(_response())
    signature = root.find(".//sr:SMETS1SignedResponse/ds:Signature", NSMAP)
    assert signature is not None
    signature.getparent().remove(signature)  # type: ignore[union-attr]
    read = parse_response(root, generated_credentials().cert_pem)
    assert not read.signature.valid
    assert read.signature.reason == "no ds:Signature on the SMETS1 Response"


def test_a_signature_by_another_key_does_not_verify(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    other = generated_credentials().cert_pem  # the expected certificate
    root = parse_xml(_response())
    # Re-sign with a key the User does not trust, keeping the trusted certificate in KeyInfo.
    from s1sr.duis.signing import Credentials, sign_element

    signed = root.find(".//sr:SMETS1SignedResponse", NSMAP)
    assert signed is not None
    signed.remove(signed.find("ds:Signature", NSMAP))  # type: ignore[arg-type]
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    forged = sign_element(etree.fromstring(etree.tostring(signed)), Credentials(pem, other, "forged"))
    signed.getparent().replace(signed, forged)  # type: ignore[union-attr]
    read = parse_response(root, other)
    assert not read.signature.valid


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


def test_user_supplied_p256_credentials_sign_and_verify(tmp_path: Path) -> None:
    credentials = generated_credentials()
    (tmp_path / "key.pem").write_bytes(credentials.key_pem)
    (tmp_path / "cert.pem").write_bytes(credentials.cert_pem)
    loaded = load_credentials(tmp_path / "key.pem", tmp_path / "cert.pem")
    xml = build_response(SMETS1Response(RID, "2.5", "2.5", True), loaded)
    assert parse_response(parse_xml(xml), loaded.cert_pem).signature.valid
