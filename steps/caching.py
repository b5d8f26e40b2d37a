"""Steps about answers an S1SP gives from its cache: their Timestamp, and reads that must carry identical values.

What a User sees of a cached answer: the same values as the read it came from, and (this
project's reading, as DUIS 5.4 has no field for an answer's age) the ``Timestamp`` of that read
in the signed SMETS1 Response header. Whether the device received a command is device-side
(``no device command was sent``, ``the meter received ...``, in steps/responses.py).
"""

from typing import Any

from pytest_bdd import parsers, then

from s1sr.duis.namespaces import NSMAP
from s1sr.duis.response import parse_response
from s1sr.duis.safe_xml import parse_xml
from s1sr.gherkin import expect
from s1sr.observability import S1SP_CLOCK, device_side
from s1sr.session import TIMESTAMP, Evidence, UserSession


def _answered(user: UserSession, srv: str) -> list[Evidence]:
    """The evidence of every request of ``srv`` in the scenario that got a SMETS1 Response, in order."""
    return [e for e in user.evidence if e.srv == srv and "SMETS1ResponseMessage" in e.response_xml]


@then(parsers.re(r"the SMETS1 Response Timestamp is (?P<stamp>\S+)$"))
@device_side(S1SP_CLOCK)
def timestamp_is(user: UserSession, stamp: str) -> None:
    """The Timestamp a scenario expects is a time of the S1SP's clock, which the scenario sets: a target that
    keeps its own time (an S1SP behind DUIS) cannot be judged on it, so there the step is not observable."""
    user.require_response()
    root = parse_xml(user.evidence[-1].response_xml.encode("utf-8"), "the last response")
    expect("SMETS1Response Header/Timestamp", stamp, (root.findtext(TIMESTAMP, "(absent)", NSMAP) or "").strip())


def _values(record: Evidence) -> dict[str, Any]:
    root = parse_xml(record.response_xml.encode("utf-8"), f"SRV {record.srv} response")
    return dict(parse_response(root, None).response.values)


@then(parsers.re(r"the last two responses to SRV (?P<srv>[\d.]+) carry identical values$"))
def identical_values(user: UserSession, srv: str) -> None:
    answered = _answered(user, srv)
    assert len(answered) >= 2, f"expected two SMETS1 Responses to SRV {srv}; the scenario has {len(answered)}"
    first, second = (_values(r) for r in answered[-2:])
    assert first, f"the first SRV {srv} response carries no values"
    differing = sorted(k for k in set(first) | set(second) if first.get(k) != second.get(k))
    assert not differing, f"the two SRV {srv} responses differ in {', '.join(differing[:5])}"
