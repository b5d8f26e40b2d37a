"""DUIS ``sr:Response`` documents carrying a signed SMETS1 Response with its MMC (``ra:``) payload.

A :class:`SMETS1Response` is what the S1SP decides; :func:`build_response`
writes it as DUIS (signing the ``sr:SMETS1SignedResponse``) and
:func:`parse_response` reads one back, as a User's system would.
Per-device or per-reason outcomes travel as ``ra:DebugInfo/ra:SMETS1Debug``
entries (``ResponseCode``, ``Position``, ``Error``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree
from lxml.builder import ElementMaker

from s1sr.duis.namespaces import NSMAP, RA, SCHEMA_VERSION, SR, ra, sr
from s1sr.duis.request import RequestId
from s1sr.duis.safe_xml import shorten
from s1sr.duis.signing import Credentials, SignatureCheck, sign_element, verify_element
from s1sr.errors import InputError

#: Service Reference Variant -> MMC response payload element (None: no payload element).
PAYLOAD_ELEMENTS: dict[str, str | None] = {
    "1.5": "UpdateMeterBalanceRsp",
    "1.6": "UpdatePaymentModeRsp",
    "2.1": "UpdatePrepayConfigurationRsp",
    "2.5": "ActivateEmergencyCreditRsp",
    "4.3": "ReadInstantaneousPrepayValuesRsp",
    "4.13": "ReadPrepaymentConfigurationRsp",
    "4.18": "ReadMeterBalanceRsp",
    "6.4.1": "UpdateDeviceConfigurationLoadLimitingGeneralSettingsRsp",
    "8.11": "UpdateHANDeviceLogRsp",
    "11.1": None,
    "11.3": "ActivateFirmwareRsp",
}

Value = int | bool | str


@dataclass(frozen=True)
class Outcome:
    """One outcome line in ``SMETS1Debug``: 0 is success; ``position`` is 1-based."""

    code: int
    position: int
    text: str


@dataclass
class SMETS1Response:
    """What the S1SP answers to one Service Request.

    ``values`` holds payload fields in schema order; a key with ``/`` is nested
    (``Electricity/PaymentMode``).
    """

    request_id: RequestId
    srv: str
    service_reference: str
    success: bool
    values: dict[str, Value] = field(default_factory=dict)
    outcomes: list[Outcome] = field(default_factory=list)
    response_code: str = "I0"
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    @property
    def device(self) -> str:
        """The device that answered (the request's business target)."""
        return self.request_id.target

    def reason(self) -> str:
        """All outcome texts joined, for messages."""
        return "; ".join(o.text for o in self.outcomes)


R = ElementMaker(namespace=RA, nsmap={"ra": RA})
S = ElementMaker(namespace=SR, nsmap={"sr": SR, "ra": RA})


def _text(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _payload(response: SMETS1Response) -> etree._Element:
    children: list[etree._Element] = []
    name = PAYLOAD_ELEMENTS.get(response.srv)
    if name is not None:
        data = R(name, MessageSuccess=_text(response.success))
        for key, value in response.values.items():
            parent = data
            *outer, leaf = key.split("/")
            for part in outer:
                found = parent.find(ra(part))
                parent = found if found is not None else etree.SubElement(parent, ra(part))
            etree.SubElement(parent, ra(leaf)).text = _text(value)
        children.append(R.SMETSData(data))
    if response.outcomes:
        children.append(
            R.DebugInfo(
                R.SMETS1Debug(
                    *(
                        R.SMETS1Response(R.Error(o.text[:250]), ResponseCode=str(o.code), Position=str(o.position))
                        for o in response.outcomes
                    )
                )
            )
        )
    return S.ResponseMessage(*children)


def build_response(response: SMETS1Response, credentials: Credentials) -> bytes:
    """Write ``response`` as a DUIS ``sr:Response`` with a signed ``sr:SMETS1SignedResponse``."""
    rid = response.request_id
    stamp = response.timestamp.isoformat().replace("+00:00", "Z")
    header = R.Header(
        R.BusinessOriginatorID(rid.target),
        R.BusinessTargetID(rid.originator),
        R.OriginatorCounter(str(rid.counter)),
        R.ServiceReference(response.service_reference),
        R.ServiceReferenceVariant(response.srv),
        R.Timestamp(stamp),
    )
    inner = S.SMETS1SignedResponse(
        S.SMETS1Response(_rehome(header, "Header"), S.Body(_payload(response))),
        schemaVersion=SCHEMA_VERSION,
    )
    slot = S.SMETS1SignedResponse()
    root = S.Response(
        S.Header(
            S.RequestID(str(rid)),
            S.ResponseID(f"{rid.target}:{rid.originator}:{rid.counter}"),
            S.ResponseCode(response.response_code),
            S.ResponseDateTime(stamp),
        ),
        S.Body(
            S.SMETS1ResponseMessage(
                S.ServiceReference(response.service_reference),
                S.ServiceReferenceVariant(response.srv),
                slot,
            )
        ),
        schemaVersion=SCHEMA_VERSION,
    )
    # Only the envelope is indented. DUIS validators (DCC's signing tool among them) drop whitespace between
    # elements before checking a digest, so the signed SMETS1 Response is written without any, as DCC's tool
    # writes what it signs: a signature over indentation verifies in signxml but not there.
    etree.indent(root, space="  ")
    signed = sign_element(inner, credentials)
    signed.tail = slot.tail
    slot.getparent().replace(slot, signed)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def _rehome(element: etree._Element, local: str) -> etree._Element:
    """``SMETS1Response/Header`` is an sr: element of ra:HeaderType: children ra:, element sr:."""
    element.tag = sr(local)
    return element


@dataclass(frozen=True)
class SignedHeader:
    """The identifiers inside the signed SMETS1 Response that a User correlates on (text as found)."""

    originator: str
    target: str
    counter: str
    srv: str


@dataclass
class ParsedResponse:
    """A DUIS Response as a User reads it, with the signature verdict and the signed header."""

    response: SMETS1Response
    signature: SignatureCheck
    signed_header: SignedHeader | None = None


def parse_response(root: etree._Element, cert_pem: bytes | None, where: str = "<response>") -> ParsedResponse:
    """Read a DUIS ``sr:Response`` carrying a SMETS1 Response; verify its signature if a cert is given."""
    if root.tag != sr("Response"):
        raise InputError(f"root element is {root.tag}, not sr:Response", where)
    signed = root.find("sr:Body/sr:SMETS1ResponseMessage/sr:SMETS1SignedResponse", NSMAP)
    if signed is None:
        raise InputError("no sr:SMETS1ResponseMessage/sr:SMETS1SignedResponse in the body", where)
    header = signed.find("sr:SMETS1Response/sr:Header", NSMAP)
    message = signed.find("sr:SMETS1Response/sr:Body/sr:ResponseMessage", NSMAP)
    if header is None or message is None:
        raise InputError("SMETS1Response needs a Header and a Body/ResponseMessage", where)
    request_id = RequestId.parse(root.findtext("sr:Header/sr:RequestID", "", NSMAP))
    srv = header.findtext("ra:ServiceReferenceVariant", "", NSMAP)
    values: dict[str, Value] = {}
    success = True
    data = message.find("ra:SMETSData", NSMAP)
    if data is not None and len(data):
        payload = data[0]
        success = payload.get("MessageSuccess", "true") == "true"
        values = _flatten(payload)
    outcomes = [
        Outcome(
            _integer(e.get("ResponseCode", "0"), "SMETS1Response/@ResponseCode", where),
            _integer(e.get("Position", "1"), "SMETS1Response/@Position", where),
            e.findtext("ra:Error", "", NSMAP),
        )
        for e in message.findall("ra:DebugInfo/ra:SMETS1Debug/ra:SMETS1Response", NSMAP)
    ]
    if data is None:
        success = bool(outcomes) and all(o.code == 0 for o in outcomes)
    response = SMETS1Response(
        request_id=request_id,
        srv=srv,
        service_reference=header.findtext("ra:ServiceReference", "", NSMAP),
        success=success,
        values=values,
        outcomes=outcomes,
        response_code=root.findtext("sr:Header/sr:ResponseCode", "", NSMAP),
    )
    check = verify_element(signed, cert_pem) if cert_pem is not None else SignatureCheck(False, "not checked")
    signed_header = SignedHeader(
        originator=header.findtext("ra:BusinessOriginatorID", "", NSMAP).strip(XML_SPACE),
        target=header.findtext("ra:BusinessTargetID", "", NSMAP).strip(XML_SPACE),
        counter=header.findtext("ra:OriginatorCounter", "", NSMAP).strip(XML_SPACE),
        srv=srv.strip(XML_SPACE),
    )
    return ParsedResponse(response, check, signed_header)


def _flatten(element: etree._Element, prefix: str = "") -> dict[str, Value]:
    """Leaf values of a payload keyed by their path below it (``Electricity/PaymentMode``)."""
    found: dict[str, Value] = {}
    for child in element:
        key = prefix + etree.QName(child).localname
        if len(child):
            found.update(_flatten(child, key + "/"))
        elif child.text is not None:
            found[key] = _value(child.text)
    return found


#: The characters XML Schema's whiteSpace="collapse" removes (a no-break space is not one of them).
XML_SPACE = " \t\r\n"
_INTEGER = re.compile(r"[+-]?[0-9]{1,19}")


def _integer(text: str, what: str, where: str) -> int:
    """An xs:integer attribute as the schema reads it (ASCII digits, XML whitespace only), bounded."""
    value = text.strip(XML_SPACE)
    if not _INTEGER.fullmatch(value):
        raise InputError(f"{what} {shorten(value)!r} is not an integer", where)
    return int(value)


def _value(text: str) -> Value:
    stripped = text.strip(XML_SPACE)
    if stripped in ("true", "false"):
        return stripped == "true"
    try:
        number = int(stripped)
    except ValueError:
        return stripped
    # Keep text such as a FirmwareVersion "00000101" as text: only canonical integers are numbers.
    return number if str(number) == stripped else stripped
