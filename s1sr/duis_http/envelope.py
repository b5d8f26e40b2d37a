"""The DUIS envelope: acknowledgements and refusals, and the signature over a whole DUIS message.

Every DUIS message on the wire is signed as a document: an enveloped ``ds:Signature`` as
the last child of ``sr:Request`` or ``sr:Response`` (the DUIS schema's place for it), made
and checked by :mod:`s1sr.duis.signing` to its profile. A response carrying a SMETS1
Response holds a second signature inside, the S1SP's on ``sr:SMETS1SignedResponse``, which
the envelope signature covers like any other content. DCC's signing tool does not check
such a document at all: its ``Validate`` passes an ``sr:Response`` holding other than one
signature unchecked.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from datetime import datetime

from lxml import etree

from s1sr.duis.refusal import code_only_response
from s1sr.duis.signing import DS, Credentials, SignatureCheck, sign_element, verify_element
from s1sr.duis_http.services import RequestHeader, ResponseCode

SIGNATURE = f"{{{DS}}}Signature"


def status_response(header: RequestHeader, code: ResponseCode, when: datetime | None = None) -> etree._Element:
    """An ``sr:Response`` carrying only a response code: an acknowledgement (``I99``) or a refusal (``E..``)."""
    return code_only_response(header.request_id, header.service_reference, header.srv, code.value, when)


def strip_envelope_signature(root: etree._Element) -> int:
    """Remove every ``ds:Signature`` child of ``root`` (a message is signed afresh); return how many."""
    found = [child for child in root if child.tag == SIGNATURE]
    for child in found:
        root.remove(child)
    return len(found)


def sign_envelope(root: etree._Element, credentials: Credentials) -> bytes:
    """``root`` signed as a document (any signature it had replaced), serialised as UTF-8 with a declaration."""
    unsigned = copy.deepcopy(root)
    strip_envelope_signature(unsigned)
    return bytes(etree.tostring(sign_element(unsigned, credentials), xml_declaration=True, encoding="UTF-8"))


def verify_envelope(root: etree._Element, trusted: Sequence[bytes]) -> SignatureCheck:
    """Verify the signature over a whole DUIS message with any of the ``trusted`` certificates (PEM or DER).

    Valid when the message's enveloped signature (:func:`s1sr.duis.signing.verify_element`)
    verifies with one of the certificates; signatures inside the message are content (a
    SMETS1 Response's), checked by their own reader.
    """
    if not trusted:
        return SignatureCheck(False, "no trusted certificate to check the DUIS signature with")
    checks = []
    for cert in trusted:
        check = verify_element(root, cert)
        if check.valid or check.reason.startswith("digest mismatch"):
            return check  # an altered message says so whatever the key
        checks.append(check)
    return checks[0]  # the first certificate's reason stands for all
