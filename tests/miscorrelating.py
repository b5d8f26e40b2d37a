"""S1SPs that answer with the wrong identifiers, plugged in through the public ``--s1sp`` point.

Each wraps the reference S1SP and changes one thing a User correlates a response on:
``s1sr run --s1sp tests.miscorrelating:NAME``. The SMETS1 Response stays properly
signed (re-signed where its signed header changes), so only the correlation check can
catch them.
"""

from __future__ import annotations

from lxml import etree

from s1sr.catalogue import DMC, Catalogue
from s1sr.devices.adapter import DeviceAdapter
from s1sr.duis.namespaces import NSMAP
from s1sr.duis.safe_xml import parse_xml
from s1sr.duis.signing import Credentials, sign_element
from s1sr.s1sp.api import S1SP
from s1sr.s1sp.translator import ReferenceS1SP

DS = "{http://www.w3.org/2000/09/xmldsig#}Signature"


class _Altered(S1SP):
    """The reference S1SP, with its response document altered by :meth:`alter`."""

    def __init__(self, inner: S1SP, credentials: Credentials) -> None:
        self.inner = inner
        self.credentials = credentials

    @classmethod
    def create(
        cls, catalogue: Catalogue, dmc: DMC, adapter: DeviceAdapter, credentials: Credentials, timeout_s: float
    ) -> S1SP:
        return cls(ReferenceS1SP.create(catalogue, dmc, adapter, credentials, timeout_s), credentials)

    def respond(self, request_xml: bytes) -> bytes:
        root = parse_xml(self.inner.respond(request_xml))
        self.alter(root)
        return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))

    def alter(self, root: etree._Element) -> None:
        raise NotImplementedError

    def resign(self, root: etree._Element, path: str, text: str) -> None:
        """Set a field inside the signed SMETS1 Response and sign it again with the S1SP's own key."""
        signed = root.find("sr:Body/sr:SMETS1ResponseMessage/sr:SMETS1SignedResponse", NSMAP)
        assert signed is not None
        signed.remove(signed.find(DS))
        field = signed.find(path, NSMAP)
        assert field is not None
        field.text = text
        fresh = sign_element(signed, self.credentials)
        signed.getparent().replace(signed, fresh)


class EchoesAnotherRequestID(_Altered):
    """The DUIS header names another request (the counter one higher)."""

    def alter(self, root: etree._Element) -> None:
        field = root.find("sr:Header/sr:RequestID", NSMAP)
        assert field is not None and field.text
        originator, target, counter = field.text.split(":")
        field.text = f"{originator}:{target}:{int(counter) + 1}"


class SignsAnotherCounter(_Altered):
    """The signed SMETS1 Response carries another OriginatorCounter."""

    def alter(self, root: etree._Element) -> None:
        self.resign(root, "sr:SMETS1Response/sr:Header/ra:OriginatorCounter", "7")


class SignsFromAnotherDevice(_Altered):
    """The signed SMETS1 Response comes from another device than the request's target."""

    def alter(self, root: etree._Element) -> None:
        self.resign(root, "sr:SMETS1Response/sr:Header/ra:BusinessOriginatorID", "00-DB-12-34-56-78-90-B0")


class SignsForAnotherUser(_Altered):
    """The signed SMETS1 Response is addressed to another User."""

    def alter(self, root: etree._Element) -> None:
        self.resign(root, "sr:SMETS1Response/sr:Header/ra:BusinessTargetID", "90-B3-D5-1F-30-01-00-02")
