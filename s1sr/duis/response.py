"""DUIS ``sr:Response`` documents carrying a signed SMETS1 Response with its MMC (``ra:``) payload.

A :class:`SMETS1Response` is what the S1SP decides; :func:`build_response`
writes it as DUIS (signing the ``sr:SMETS1SignedResponse``) and
:func:`parse_response` reads one back, as a User's system would.
Per-device or per-reason outcomes travel as ``ra:DebugInfo/ra:SMETS1Debug``
entries (``ResponseCode``, ``Position``, ``Error``).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache

from lxml import etree

from s1sr.duis.namespaces import NSMAP, RA, SCHEMA_VERSION, SR, ra, sr
from s1sr.duis.request import RequestId
from s1sr.duis.safe_xml import shorten
from s1sr.duis.signing import Credentials, SignatureCheck, append_signature, verify_element
from s1sr.errors import InputError

#: Service Reference Variant -> MMC response payload element (None: no payload element).
PAYLOAD_ELEMENTS: dict[str, str | None] = {
    "1.5": "UpdateMeterBalanceRsp",
    "1.6": "UpdatePaymentModeRsp",
    "2.1": "UpdatePrepayConfigurationRsp",
    "2.5": "ActivateEmergencyCreditRsp",
    "4.1.1": "ReadInstantaneousImportRegistersRsp",
    "4.2": "ReadInstantaneousExportRegistersRsp",
    "4.3": "ReadInstantaneousPrepayValuesRsp",
    "4.8.1": "ReadActiveImportProfileDataRsp",
    "4.8.3": "ReadExportProfileDataRsp",
    "4.10": "ReadNetworkDataRsp",
    "4.13": "ReadPrepaymentConfigurationRsp",
    "4.17": "RetrieveDailyConsumptionLogRsp",
    "4.18": "ReadMeterBalanceRsp",
    "6.4.1": "UpdateDeviceConfigurationLoadLimitingGeneralSettingsRsp",
    "8.11": "UpdateHANDeviceLogRsp",
    "11.1": None,
    "11.3": "ActivateFirmwareRsp",
}

#: Payloads whose MMC type requires a child (Electricity or Gas): a failure that carries no value has no payload.
REQUIRES_A_VALUE = frozenset({"4.1.1", "4.10", "4.17"})
#: Elements the MMC lets a payload repeat. In ``values`` each occurrence is numbered from 1, always:
#: ``LogEntry[1]/Timestamp``, ``LogEntry[2]/Timestamp``.
REPEATED = frozenset({"LogEntry", "PhaseVoltageOperationalData"})
#: The most log entries the MMC lets each read's response carry (``maxOccurs``), by SRV and fuel.
MAX_LOG_ENTRIES: dict[tuple[str, str], int] = {
    ("4.8.1", "electricity"): 19056,
    ("4.8.1", "gas"): 19056,
    ("4.8.3", "electricity"): 4464,
    ("4.10", "electricity"): 4320,
    ("4.10", "gas"): 41,
    ("4.17", "electricity"): 731,
    ("4.17", "gas"): 731,
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
    (``Electricity/PaymentMode``), an element the MMC repeats is numbered from 1
    (``LogEntry[2]/Timestamp``), and ``""`` is an element with no content (an ``Electricity``
    holding no log entry).
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


#: The namespaces a DUIS Response declares on its root element (and the signed SMETS1 Response on its own).
_NSMAP = {"sr": SR, "ra": RA}


def _text(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


_STEP = re.compile(r"(?P<name>[A-Za-z][A-Za-z0-9]*)(?:\[(?P<index>[1-9][0-9]*)\])?")


def _fill(data: etree._Element, values: dict[str, Value]) -> None:
    """Write ``values`` below ``data``, in order: ``a/b`` nests b in a, ``LogEntry[2]`` is the second LogEntry.

    Each element is made once and found again by its path (a dict, so 19,056 log entries take
    linear time); an empty string makes an element with no content, as a required but empty
    ``Electricity`` is.
    """
    made: dict[str, etree._Element] = {}
    counts: dict[tuple[str, str], int] = {}
    for key, value in values.items():
        parent, path = data, ""
        *outer, leaf = key.split("/")
        for part in outer:
            path = f"{path}/{part}"
            found = made.get(path)
            if found is None:
                found = made[path] = _child(parent, path, part, counts)
            parent = found
        element = made[f"{path}/{leaf}"] = _child(parent, f"{path}/{leaf}", leaf, counts)
        element.text = _text(value)


def _child(parent: etree._Element, path: str, part: str, counts: dict[tuple[str, str], int]) -> etree._Element:
    """A new element ``part`` (``Name`` or ``Name[i]``) of ``parent``; a numbered one must come next in its order."""
    step = _STEP.fullmatch(part)
    if step is None:
        raise ValueError(f"payload path {path!r}: {part!r} is not an element name")
    name, index = step["name"], step["index"]
    if index is not None:
        parent_path = path.rsplit("/", 1)[0]
        expected = counts.get((parent_path, name), 0) + 1
        if int(index) != expected:
            raise ValueError(f"payload path {path!r}: {name}[{index}] written where {name}[{expected}] comes next")
        counts[(parent_path, name)] = expected
    return etree.SubElement(parent, ra(name))


def _payload(body: etree._Element, response: SMETS1Response) -> None:
    """Write ``sr:ResponseMessage`` in ``body``: the MMC payload, then the outcomes."""
    message = etree.SubElement(body, sr("ResponseMessage"))
    name = PAYLOAD_ELEMENTS.get(response.srv)
    if name is not None and (response.success or response.values or response.srv not in REQUIRES_A_VALUE):
        smets_data = etree.SubElement(message, ra("SMETSData"))
        data = etree.SubElement(smets_data, ra(name), MessageSuccess=_text(response.success))
        _fill(data, response.values)
    if response.outcomes:
        debug = etree.SubElement(etree.SubElement(message, ra("DebugInfo")), ra("SMETS1Debug"))
        for o in response.outcomes:
            line = etree.SubElement(debug, ra("SMETS1Response"), ResponseCode=str(o.code), Position=str(o.position))
            etree.SubElement(line, ra("Error")).text = o.text[:250]


#: The leaves every DUIS Response has, whatever it answers: of its header, of its SMETS1ResponseMessage,
#: and of the signed SMETS1 Response's header (``ra:`` children of an ``sr:`` element, ra:HeaderType).
_ENVELOPE_LEAVES = ("RequestID", "ResponseID", "ResponseCode", "ResponseDateTime")
_MESSAGE_LEAVES = ("ServiceReference", "ServiceReferenceVariant")
_SIGNED_LEAVES = (
    "BusinessOriginatorID",
    "BusinessTargetID",
    "OriginatorCounter",
    "ServiceReference",
    "ServiceReferenceVariant",
    "Timestamp",
)


@cache
def _skeleton() -> etree._Element:
    """The elements every DUIS Response has, texts empty, made once: each response copies it (a third of the cost).

    Only the envelope is indented: the signed SMETS1 Response gets its header after indenting, and its
    body after copying. DUIS validators (DCC's signing tool among them) drop whitespace between elements
    before checking a digest, so the signed SMETS1 Response is written without any, as DCC's tool writes
    what it signs: a signature over indentation verifies in signxml but not there.
    """
    root = etree.Element(sr("Response"), nsmap=_NSMAP, schemaVersion=SCHEMA_VERSION)
    envelope = etree.SubElement(root, sr("Header"))
    for name in _ENVELOPE_LEAVES:
        etree.SubElement(envelope, sr(name))
    message = etree.SubElement(etree.SubElement(root, sr("Body")), sr("SMETS1ResponseMessage"))
    for name in _MESSAGE_LEAVES:
        etree.SubElement(message, sr(name))
    signed = etree.SubElement(message, sr("SMETS1SignedResponse"), schemaVersion=SCHEMA_VERSION)
    etree.indent(root, space="  ")
    header = etree.SubElement(etree.SubElement(signed, sr("SMETS1Response")), sr("Header"))
    for name in _SIGNED_LEAVES:
        etree.SubElement(header, ra(name))
    return root


def _write(elements: list[etree._Element], texts: tuple[str, ...]) -> None:
    for element, text in zip(elements, texts, strict=True):
        element.text = text


def build_response(response: SMETS1Response, credentials: Credentials) -> bytes:
    """Write ``response`` as a DUIS ``sr:Response`` with a signed ``sr:SMETS1SignedResponse``."""
    rid = response.request_id
    stamp = response.timestamp.isoformat().replace("+00:00", "Z")
    root = copy.deepcopy(_skeleton())
    envelope, body = root
    *message, signed = body[0]
    smets1 = signed[0]
    counter = str(rid.counter)
    _write(list(envelope), (str(rid), f"{rid.target}:{rid.originator}:{counter}", response.response_code, stamp))
    _write(message, (response.service_reference, response.srv))
    _write(
        list(smets1[0]),
        (rid.target, rid.originator, counter, response.service_reference, response.srv, stamp),
    )
    _payload(etree.SubElement(smets1, sr("Body")), response)
    # Signed where it stands, as a document of its own (exclusive C14N: the envelope's namespace
    # declarations do not enter the digest); it is ours, so no copy is needed.
    append_signature(signed, credentials)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


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


def _path(path: str) -> etree.XPath:
    return etree.XPath(path, namespaces=NSMAP)


# Compiled once: ``find`` would parse and look up its path on every call, at several times the cost.
# Each is read as ``find`` reads it: the first element at the path, in document order.
_SIGNED = _path("sr:Body/sr:SMETS1ResponseMessage/sr:SMETS1SignedResponse")
_SIGNED_HEADER = _path("sr:SMETS1Response/sr:Header")
_MESSAGE = _path("sr:SMETS1Response/sr:Body/sr:ResponseMessage")
_REQUEST_ID = _path("sr:Header/sr:RequestID")
_RESPONSE_CODE = _path("sr:Header/sr:ResponseCode")
_OUTCOMES = _path("ra:DebugInfo/ra:SMETS1Debug/ra:SMETS1Response")


def _all(path: etree.XPath, element: etree._Element) -> list[etree._Element]:
    found = path(element)
    return [e for e in found if isinstance(e, etree._Element)] if isinstance(found, list) else []


def _first(path: etree.XPath, element: etree._Element) -> etree._Element | None:
    found = _all(path, element)
    return found[0] if found else None


def _text_of(element: etree._Element | None) -> str:
    """What ``findtext(path, "")`` gives for the element found: its text, "" when it has none or is missing."""
    return "" if element is None else element.text or ""


def _child_texts(parent: etree._Element) -> dict[str, str]:
    """The text of each child element of ``parent`` by tag, the first of a tag winning, as ``findtext`` reads it."""
    texts: dict[str, str] = {}
    for child in parent.iterchildren(tag=etree.Element):
        texts.setdefault(child.tag, child.text or "")
    return texts


def parse_response(root: etree._Element, cert_pem: bytes | None, where: str = "<response>") -> ParsedResponse:
    """Read a DUIS ``sr:Response`` carrying a SMETS1 Response; verify its signature if a cert is given."""
    if root.tag != sr("Response"):
        raise InputError(f"root element is {root.tag}, not sr:Response", where)
    signed = _first(_SIGNED, root)
    if signed is None:
        raise InputError("no sr:SMETS1ResponseMessage/sr:SMETS1SignedResponse in the body", where)
    header = _first(_SIGNED_HEADER, signed)
    message = _first(_MESSAGE, signed)
    if header is None or message is None:
        raise InputError("SMETS1Response needs a Header and a Body/ResponseMessage", where)
    request_id = RequestId.parse(_text_of(_first(_REQUEST_ID, root)))
    fields = _child_texts(header)
    srv = fields.get(ra("ServiceReferenceVariant"), "")
    values: dict[str, Value] = {}
    success = True
    data = next(message.iterchildren(ra("SMETSData")), None)
    if data is not None and len(data):
        payload = data[0]
        success = payload.get("MessageSuccess", "true") == "true"
        values = _flatten(payload)
    outcomes = [
        Outcome(
            _integer(e.get("ResponseCode", "0"), "SMETS1Response/@ResponseCode", where),
            _integer(e.get("Position", "1"), "SMETS1Response/@Position", where),
            _text_of(next(e.iterchildren(ra("Error")), None)),
        )
        for e in _all(_OUTCOMES, message)
    ]
    if data is None:
        success = bool(outcomes) and all(o.code == 0 for o in outcomes)
    response = SMETS1Response(
        request_id=request_id,
        srv=srv,
        service_reference=fields.get(ra("ServiceReference"), ""),
        success=success,
        values=values,
        outcomes=outcomes,
        response_code=_text_of(_first(_RESPONSE_CODE, root)),
    )
    check = verify_element(signed, cert_pem) if cert_pem is not None else SignatureCheck(False, "not checked")
    signed_header = SignedHeader(
        originator=fields.get(ra("BusinessOriginatorID"), "").strip(XML_SPACE),
        target=fields.get(ra("BusinessTargetID"), "").strip(XML_SPACE),
        counter=fields.get(ra("OriginatorCounter"), "").strip(XML_SPACE),
        srv=srv.strip(XML_SPACE),
    )
    return ParsedResponse(response, check, signed_header)


def _flatten(element: etree._Element, prefix: str = "") -> dict[str, Value]:
    """Leaf values of a payload keyed by their path below it (``Electricity/PaymentMode``).

    An element the MMC repeats is numbered from 1 (``LogEntry[1]/Timestamp``); an element with
    no content at all is kept, as ``""``, so a response with no log entry still says which fuel.
    """
    found: dict[str, Value] = {}
    seen: dict[str, int] = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        local = child.tag.rpartition("}")[2]
        if local in REPEATED:
            seen[local] = seen.get(local, 0) + 1
            local = f"{local}[{seen[local]}]"
        key = prefix + local
        if len(child):
            found.update(_flatten(child, key + "/"))
        elif child.text is not None:
            found[key] = _value(child.text)
        else:
            found[key] = ""
    return found


def log_entries(values: dict[str, Value], under: str = "") -> list[dict[str, Value]]:
    """The ``LogEntry`` elements of a payload (``under`` the path given, e.g. ``Electricity``), in order.

    Each is the entry's own values keyed by their path below it (``Timestamp``, ``Electricity/PrimaryValue``).
    """
    prefix = f"{under}/LogEntry[" if under else "LogEntry["
    entries: dict[int, dict[str, Value]] = {}
    for key, value in values.items():
        if not key.startswith(prefix):
            continue
        number, _, rest = key[len(prefix) :].partition("]/")
        if number.isdecimal() and rest:
            entries.setdefault(int(number), {})[rest] = value
    return [entries[n] for n in sorted(entries)]


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
