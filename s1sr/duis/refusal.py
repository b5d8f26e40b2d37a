"""DUIS responses that carry only a response code: a request refused (``E2``, ``E11``...) or acknowledged (``I99``).

Such an ``sr:Response`` names the request (``RequestID``, ``ResponseID``), the code, and in its
body the request's Service Reference and Variant, as DCC's do (duis-parser's
``test/resources/acknowledgement-error.xml``). It carries no SMETS1 Response: the request
reached no device. :func:`build_refusal` writes one signed as a document by whoever refuses,
and :func:`parse_refusal` reads one back as a User would.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree
from lxml.builder import ElementMaker

from s1sr.duis.namespaces import NSMAP, SCHEMA_VERSION, SR, sr
from s1sr.duis.request import RequestId
from s1sr.duis.safe_xml import shorten
from s1sr.duis.signing import Credentials, SignatureCheck, append_signature, verify_element
from s1sr.errors import InputError

S = ElementMaker(namespace=SR, nsmap={"sr": SR})


def code_only_response(
    request_id: RequestId, service_reference: str, srv: str, code: str, when: datetime | None = None
) -> etree._Element:
    """An unsigned ``sr:Response`` carrying only ``code`` for the request ``request_id``."""
    rid = request_id
    stamp = (when or datetime.now(UTC)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    response: etree._Element = S.Response(
        S.Header(
            S.RequestID(str(rid)),
            S.ResponseID(f"{rid.target}:{rid.originator}:{rid.counter}"),
            S.ResponseCode(code),
            S.ResponseDateTime(stamp),
        ),
        S.Body(S.ResponseMessage(S.ServiceReference(service_reference), S.ServiceReferenceVariant(srv))),
        schemaVersion=SCHEMA_VERSION,
    )
    return response


def build_refusal(
    request_id: RequestId, service_reference: str, srv: str, code: str, credentials: Credentials
) -> bytes:
    """The refusal ``code`` of a request, signed as a document with ``credentials``."""
    response = code_only_response(request_id, service_reference, srv, code)
    append_signature(response, credentials)  # built here, held by nothing else: signed in place, no copy
    return bytes(etree.tostring(response, xml_declaration=True, encoding="UTF-8"))


@dataclass(frozen=True)
class Refusal:
    """A code-only DUIS response as a User reads it."""

    request_id: RequestId
    code: str
    service_reference: str
    srv: str
    signature: SignatureCheck


def is_code_only(root: etree._Element) -> bool:
    """Whether ``root`` is an ``sr:Response`` with a bare ``ResponseMessage`` body (no SMETS1 Response)."""
    return root.tag == sr("Response") and root.find("sr:Body/sr:ResponseMessage", NSMAP) is not None


def parse_refusal(root: etree._Element, certificates: tuple[bytes, ...], where: str = "<response>") -> Refusal:
    """Read a code-only response; its document signature checked with each certificate in turn."""
    if not is_code_only(root):
        raise InputError("not a DUIS response carrying only a response code", where)
    text = root.findtext("sr:Header/sr:RequestID", "", NSMAP)
    try:
        request_id = RequestId.parse(text)
    except (InputError, ValueError):
        raise InputError(f"sr:Header/sr:RequestID {shorten(text)!r} is not a DUIS RequestID", where) from None
    check = SignatureCheck(False, "no certificate to check the signature with")
    for cert in certificates:
        check = verify_element(root, cert)
        if check.valid:
            break
    return Refusal(
        request_id,
        root.findtext("sr:Header/sr:ResponseCode", "", NSMAP).strip(),
        root.findtext("sr:Body/sr:ResponseMessage/sr:ServiceReference", "", NSMAP).strip(),
        root.findtext("sr:Body/sr:ResponseMessage/sr:ServiceReferenceVariant", "", NSMAP).strip(),
        check,
    )
