"""Throughput figures: DUIS schema validation (lxml, xmlschema) and reference-S1SP translations.

    python benchmarks/throughput.py [--xsd PATH] [--rtds DIR] [--seconds N]

Prints documents per second. Timings vary with the machine; nothing here asserts on them.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from s1sr.catalogue import find_dmc, load_catalogue
from s1sr.devices.simulated import SimulatedAdapter
from s1sr.duis.request import parse_request
from s1sr.duis.response import build_response
from s1sr.duis.safe_xml import parse_xml
from s1sr.duis.schema import find_schema, load_schema
from s1sr.duis.signing import generated_credentials
from s1sr.errors import UnsupportedRequest
from s1sr.s1sp.translator import ReferenceS1SP

HERE = Path(__file__).resolve().parent.parent


def rate(label: str, count: int, seconds: float, unit: str = "documents") -> None:
    print(f"{label:<58} {count / seconds:>10,.0f} {unit}/s  ({count:,} in {seconds:.2f} s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xsd", default=None)
    parser.add_argument("--rtds", default=str(HERE.parent / "shared" / "rtds"))
    parser.add_argument("--seconds", type=float, default=3.0, help="time budget per lxml/translate measurement")
    args = parser.parse_args()

    setting = find_schema(args.xsd, HERE)
    if setting.path is None:
        print("no DUIS schema: pass --xsd PATH or set S1SR_DUIS_XSD", file=sys.stderr)
        return 2
    files = sorted(Path(args.rtds).glob("*.XML"))
    if not files:
        print(f"no RTDS templates in {args.rtds}", file=sys.stderr)
        return 2
    raw = [f.read_bytes() for f in files]

    started = time.perf_counter()
    schema = load_schema(setting.path)
    print(f"compile DUIS schema with lxml (once per process): {time.perf_counter() - started:.3f} s")

    docs = [parse_xml(b) for b in raw]
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < args.seconds:
        for doc in docs:
            schema.is_valid(doc)
        count += len(docs)
    rate(f"lxml validation, RTDS corpus ({len(files)} files, parsed)", count, time.perf_counter() - started)

    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < args.seconds:
        for data in raw:
            schema.is_valid(parse_xml(data))
        count += len(raw)
    rate("safe parse + lxml validation, RTDS corpus", count, time.perf_counter() - started)

    import xmlschema

    started = time.perf_counter()
    slow = xmlschema.XMLSchema(str(setting.path))
    print(f"compile DUIS schema with xmlschema: {time.perf_counter() - started:.3f} s")
    started = time.perf_counter()
    for data in raw:
        slow.is_valid(data.decode("utf-8"))
    rate("xmlschema validation, RTDS corpus (one pass)", len(raw), time.perf_counter() - started)

    requests = []
    for data in raw:
        try:
            request = parse_request(parse_xml(data))
        except UnsupportedRequest:
            continue
        if request.target.endswith("A0") or request.srv == "11.1":
            requests.append(data)
    dmc = find_dmc("secure-esme")
    catalogue = load_catalogue("4.3")
    credentials = generated_credentials()
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < args.seconds:
        for data in requests:
            root = parse_xml(data)
            schema.is_valid(root)
            request = parse_request(root)
            adapter = SimulatedAdapter(dmc)  # a fresh estate per request, as `s1sr translate` does
            exchange = ReferenceS1SP(catalogue, dmc, adapter).handle(request)
            assert exchange.response is not None
            response = build_response(exchange.response, credentials)
            schema.is_valid(parse_xml(response))
        count += len(requests)
    rate(
        f"S1SP: parse+validate+translate+respond+sign+validate ({len(requests)} ESME templates)",
        count,
        time.perf_counter() - started,
        "requests",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
