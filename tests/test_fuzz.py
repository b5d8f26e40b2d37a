"""Property: translate and validate either succeed or fail with a clean S1srError, never anything else."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from s1sr.catalogue import find_dmc, load_catalogue
from s1sr.devices.adapter import DeviceError
from s1sr.devices.simulated import SimulatedAdapter
from s1sr.duis.request import parse_request
from s1sr.duis.response import build_response
from s1sr.duis.safe_xml import parse_xml, read_document
from s1sr.duis.schema import DuisSchema
from s1sr.duis.signing import generated_credentials
from s1sr.errors import S1srError
from s1sr.s1sp.translator import ReferenceS1SP
from tests.conftest import RTDS

TEMPLATES = sorted(RTDS.glob("*_1.5_*.XML")) + sorted(RTDS.glob("*_1.6_*.XML")) + sorted(RTDS.glob("*_8.11_*.XML"))
TEMPLATES += (
    sorted(RTDS.glob("*6.4.1*.XML")) + sorted(RTDS.glob("11.1_*.XML")) + sorted(RTDS.glob("*_2.1_IMMEDIATE*.XML"))
)
NASTY = [
    "",
    "-1",
    "0",
    "99999999999999999999",
    "2147483648",
    "-2147483649",
    "1e3",
    " 12 ",
    "٣",
    "²",
    "&amp;",
    "\u202e",
    "true",
    "A" * 300,
    "00-DB-12-34-56-78-90-A0",
    "<x/>",
    "nan",
    "+5",
    "0x10",
]


def _mutate(data: bytes, seed: int, how: int, nasty: str) -> bytes:
    rng = random.Random(seed)
    if how == 0:  # cut the document short
        return data[: rng.randrange(len(data))]
    if how == 1:  # flip bytes
        raw = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        return bytes(raw)
    root = etree.fromstring(data)
    elements = [e for e in root.iter() if isinstance(e.tag, str) and e is not root]
    target = rng.choice(elements)
    if how == 2:  # replace a value
        target.text = nasty
    elif how == 3:  # delete an element
        parent = target.getparent()
        assert parent is not None
        parent.remove(target)
    elif how == 4:  # duplicate an element
        parent = target.getparent()
        assert parent is not None
        parent.insert(parent.index(target), etree.fromstring(etree.tostring(target)))
    else:  # rename an element
        target.tag = etree.QName(etree.QName(target).namespace or "", nasty if nasty.isidentifier() else "Junk").text
    return bytes(etree.tostring(root))


def _translate(data: bytes) -> None:
    request = parse_request(parse_xml(data))
    dmc = find_dmc("secure-esme")
    meters = (request.target,) if request.target.startswith("00-DB") and not request.target.endswith("A2") else None
    adapter = SimulatedAdapter(dmc, meter_ids=meters)
    try:
        exchange = ReferenceS1SP(load_catalogue("4.3"), dmc, adapter).handle(request)
    except DeviceError:
        return  # a device the estate does not have: translate reports it as bad input
    assert exchange.response is not None
    build_response(exchange.response, generated_credentials())


@pytest.mark.skipif(not TEMPLATES, reason="no RTDS templates beside the checkout")
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    index=st.integers(min_value=0, max_value=10_000),
    seed=st.integers(min_value=0, max_value=2**32),
    how=st.integers(min_value=0, max_value=5),
    nasty=st.sampled_from(NASTY),
)
def test_mutated_rtds_requests_fail_cleanly_or_succeed(
    duis_schema: DuisSchema, index: int, seed: int, how: int, nasty: str
) -> None:
    template: Path = TEMPLATES[index % len(TEMPLATES)]
    data = _mutate(read_document(template), seed, how, nasty)
    try:
        _translate(data)
    except S1srError as exc:
        assert exc.line() and "\n" not in exc.line()
    try:
        root = parse_xml(data)
    except S1srError:
        return
    duis_schema.is_valid(root)
    duis_schema.problems(root, limit=2)
