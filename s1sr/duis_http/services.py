"""What DUIS over HTTP carries, shared by the endpoint and the User's client: services, routing, response codes.

A DCC User posts a signed DUIS ``sr:Request`` to one of three web services; which one is
named by the request's Command Variant. The paths, the Command Variant table and the
request classes below are DCC's own, taken from the public sources of DCC Boxed's tools:

- paths: ``SmartDCCInnovation/dccboxed-nodered-nodes`` ``src/dccboxed-config.ts`` (``endpoints``:
  "Non-Device Service" ``/api/v1/serviceD``, "Send Command Service" ``/api/v1/serviceS``,
  "Transform Service" ``/api/v1/serviceT``), commit ff5fe9382848f55846afee2126a519a409601840;
- Command Variant to service: ``SmartDCCInnovation/duis-parser`` ``src/cv.ts`` (``lookupCV(cv).webService``),
  commit 4afcaf053208b0e43d55cd12467804de20cbc7e2;
- critical and non-device Service Reference Variants: the same repository's ``src/duis-request-matrix.json``
  (the table is :mod:`s1sr.duis.request`'s, which builds requests with the Command Variant it names).

Response codes are DUIS's (``sr:ResponseCode``, an enumeration of the DUIS schema); their
meanings as DCC publishes them in its "DCC Systems Response Codes" table.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum, StrEnum

from lxml import etree

from s1sr.duis.namespaces import NSMAP, sr
from s1sr.duis.request import CRITICAL_SRVS, NON_DEVICE_SRVS, RequestId
from s1sr.duis.request import command_variant_for as command_variant_for  # re-exported: the transport's table too
from s1sr.duis.safe_xml import MAX_DOCUMENT_BYTES, shorten
from s1sr.errors import InputError

#: The media type of every DUIS message on the wire, both ways.
XML_MEDIA_TYPE = "application/xml"
#: Largest DUIS message either side reads (a firmware request with its envelope).
MAX_MESSAGE_BYTES = MAX_DOCUMENT_BYTES
#: Header carrying, on a refusal, the reason in one line (DUIS responses have no place for it).
REFUSAL_HEADER = "S1SR-Refusal"


class Service(Enum):
    """The three DUIS web services of DCC Boxed: the path each is posted to, and DCC's name for it."""

    NON_DEVICE = ("/api/v1/serviceD", "Non-Device Service")
    SEND_COMMAND = ("/api/v1/serviceS", "Send Command Service")
    TRANSFORM = ("/api/v1/serviceT", "Transform Service")

    def __init__(self, path: str, title: str) -> None:
        #: The path the service is posted to.
        self.path = path
        #: DCC's name for the service.
        self.title = title


#: DUIS Command Variant -> the web service it is sent to (duis-parser ``src/cv.ts``).
COMMAND_VARIANT_SERVICE: dict[int, Service] = {
    1: Service.SEND_COMMAND,  # non-critical, to a device over the SM WAN
    2: Service.NON_DEVICE,  # non-critical, command returned for local delivery
    3: Service.SEND_COMMAND,  # non-critical, both
    4: Service.TRANSFORM,  # critical: transform, Pre-Command back to the User to sign
    5: Service.SEND_COMMAND,  # critical signed Pre-Command, to a device over the SM WAN
    6: Service.NON_DEVICE,  # critical signed Pre-Command, returned for local delivery
    7: Service.SEND_COMMAND,  # critical signed Pre-Command, both
    8: Service.NON_DEVICE,  # a non-device service
}

#: Command Variants the served S1SP answers: local delivery (2, 3, 6, 7) is outside the S1SR's
#: scope, and the Pre-Command round trip (4 then 5) is not modelled: a request on the
#: Transform Service is executed as it stands (see docs/duis-transport.md).
SUPPORTED_VARIANTS = frozenset({1, 4, 8})


class ResponseCode(StrEnum):
    """The DUIS response codes this transport uses, each with DCC's meaning of it."""

    #: DCC's title for the code.
    meaning: str

    SUCCESS = "I0", "Success"
    ACKNOWLEDGEMENT = "I99", "Acknowledgement: accepted and passed access control; the response follows"
    INVALID_USER = "E1", "Failed Authorisation - Invalid User / User Role"
    ROLE_NOT_PERMITTED = "E2", "User Role not permitted to send Service Reference"
    INVALID_REQUEST_FOR_DEVICE = "E11", "Failed Validation - Invalid Service Request / device type combination"
    INVALID_COMMAND_VARIANT = "E12", "Failed Validation - Invalid Request / Command Variant combination"
    INVALID_REQUEST_FOR_URL = "E13", "Failed Validation - Invalid Request Type for URL"
    CANNOT_COMMUNICATE = "E20", "Communications Failure - Unable to Communicate with Device"
    NO_RESPONSE_FROM_DEVICE = "E21", "Communications Failure - No Response Received from Device"

    def __new__(cls, code: str, meaning: str) -> ResponseCode:
        """A member whose value is ``code`` and whose ``meaning`` is DCC's title for it."""
        member = str.__new__(cls, code)
        member._value_ = code
        member.meaning = meaning
        return member


def service_for_variant(variant: int) -> Service:
    """The web service a Command Variant (1..8) is sent to."""
    try:
        return COMMAND_VARIANT_SERVICE[variant]
    except KeyError:
        raise InputError(f"CommandVariant {variant} is not 1..8", "sr:Header/sr:CommandVariant") from None


def variant_problem(srv: str, variant: int) -> str | None:
    """Why ``variant`` does not apply to ``srv`` on this transport (None when it does)."""
    if variant not in SUPPORTED_VARIANTS:
        return (
            f"CommandVariant {variant} ({'local delivery' if variant in (2, 3, 6, 7) else 'signed Pre-Command'}) "
            "is not served: the S1SP answers CommandVariant 1, 4 and 8"
        )
    expected = command_variant_for(srv)
    if variant != expected:
        kind = "non-device" if srv in NON_DEVICE_SRVS else ("critical" if srv in CRITICAL_SRVS else "non-critical")
        return f"CommandVariant {variant} does not apply to SRV {srv}, a {kind} request: DUIS expects {expected}"
    return None


@dataclass(frozen=True)
class RequestHeader:
    """The routing fields of a DUIS request (``sr:Header``), as written (after the schema's whitespace rules)."""

    request_id: RequestId
    command_variant: int
    service_reference: str
    srv: str

    @property
    def service(self) -> Service:
        """The web service the Command Variant names."""
        return service_for_variant(self.command_variant)


def read_header(root: etree._Element, where: str = "request") -> RequestHeader:
    """The routing fields of a parsed ``sr:Request``; :class:`InputError` naming the first missing or bad one."""
    if root.tag != sr("Request"):
        raise InputError(f"the root element is {shorten(etree.QName(root).localname)}, not sr:Request", where)
    header = root.find("sr:Header", NSMAP)
    if header is None:
        raise InputError("no sr:Header", where, "a DUIS request starts with its header")
    values: dict[str, str] = {}
    for name in ("RequestID", "CommandVariant", "ServiceReference", "ServiceReferenceVariant"):
        text = header.findtext(f"sr:{name}", None, NSMAP)
        if text is None or not text.strip():
            raise InputError(f"no sr:Header/sr:{name}", where)
        values[name] = text.strip(" \t\r\n")
    variant = values["CommandVariant"]
    if not variant.isdecimal() or not 1 <= int(variant) <= 8:
        raise InputError(f"CommandVariant '{shorten(variant)}' is not 1..8", f"{where}: sr:Header")
    return RequestHeader(
        RequestId.parse(values["RequestID"], f"{where}: sr:Header/sr:RequestID"),
        int(variant),
        values["ServiceReference"],
        values["ServiceReferenceVariant"],
    )


def response_code_of(root: etree._Element) -> str:
    """The ``sr:Header/sr:ResponseCode`` of a parsed ``sr:Response`` ("" when absent)."""
    return (root.findtext("sr:Header/sr:ResponseCode", "", NSMAP) or "").strip()


def request_id_of(root: etree._Element, where: str = "response") -> RequestId:
    """The ``sr:Header/sr:RequestID`` of a parsed ``sr:Response``; :class:`InputError` if absent or malformed."""
    if root.tag != sr("Response"):
        raise InputError(f"the root element is {shorten(etree.QName(root).localname)}, not sr:Response", where)
    text = root.findtext("sr:Header/sr:RequestID", None, NSMAP)
    if text is None:
        raise InputError("no sr:Header/sr:RequestID", where)
    return RequestId.parse(text, f"{where}: sr:Header/sr:RequestID")
