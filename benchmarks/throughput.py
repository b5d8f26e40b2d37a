"""Throughput figures: DUIS schema validation (lxml, xmlschema) and reference-S1SP translations.

    python benchmarks/throughput.py [--xsd PATH] [--rtds DIR] [--seconds N] [--json FILE]

Prints documents per second, and requests per second through the reference S1SP: with the response
signed and validated, and with it also read and verified as the User side of ``s1sr run`` does (issue 10's
round trip: goal at least 3,000 requests/s on one core). Timings vary with the machine; nothing here asserts on them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from s1sr.catalogue import find_dmc, load_catalogue
from s1sr.devices.simulated import SimulatedAdapter
from s1sr.duis.request import parse_request
from s1sr.duis.response import build_response, parse_response
from s1sr.duis.safe_xml import parse_xml
from s1sr.duis.schema import find_schema, load_schema
from s1sr.duis.signing import generated_credentials
from s1sr.errors import UnsupportedRequest
from s1sr.s1sp.translator import ReferenceS1SP

Show = Callable[[str], None]
HERE = Path(__file__).resolve().parent.parent


def rate(label: str, count: int, seconds: float, unit: str = "documents", show: Show = print) -> float:
    """Print ``count / seconds`` as one aligned line; return it."""
    per_second = count / seconds
    show(f"{label:<72} {per_second:>10,.0f} {unit}/s  ({count:,} in {seconds:.2f} s)")
    return per_second


def in_scope_requests(raw: list[bytes]) -> list[bytes]:
    """The RTDS templates the reference S1SP answers on the simulated ESME (its meter, or SRV 11.1)."""
    requests = []
    for data in raw:
        try:
            request = parse_request(parse_xml(data))
        except UnsupportedRequest:
            continue
        if request.target.endswith("A0") or request.srv == "11.1":
            requests.append(data)
    return requests


def measure(xsd: Path, files: list[Path], seconds: float, show: Show = print) -> dict[str, float]:
    """Time schema validation and the reference S1SP round trip, printing each figure as it comes.

    Returns the figures by name (rates per second, compile times in seconds): what ``--json`` writes and
    ``benchmarks/all.py`` judges (``s1sp_verified_requests_per_s`` is issue 10's round trip).
    """
    figures: dict[str, float] = {"templates": len(files)}
    raw = [f.read_bytes() for f in files]

    started = time.perf_counter()
    schema = load_schema(xsd)
    figures["lxml_compile_s"] = time.perf_counter() - started
    show(f"compile DUIS schema with lxml (once per process): {figures['lxml_compile_s']:.3f} s")

    docs = [parse_xml(b) for b in raw]
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for doc in docs:
            schema.is_valid(doc)
        count += len(docs)
    figures["lxml_documents_per_s"] = rate(
        f"lxml validation, RTDS corpus ({len(files)} files, parsed)", count, time.perf_counter() - started, show=show
    )

    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for data in raw:
            schema.is_valid(parse_xml(data))
        count += len(raw)
    figures["parse_lxml_documents_per_s"] = rate(
        "safe parse + lxml validation, RTDS corpus", count, time.perf_counter() - started, show=show
    )

    import xmlschema

    started = time.perf_counter()
    slow = xmlschema.XMLSchema(str(xsd))
    figures["xmlschema_compile_s"] = time.perf_counter() - started
    show(f"compile DUIS schema with xmlschema: {figures['xmlschema_compile_s']:.3f} s")
    started = time.perf_counter()
    for data in raw:
        slow.is_valid(data.decode("utf-8"))
    figures["xmlschema_documents_per_s"] = rate(
        "xmlschema validation, RTDS corpus (one pass)", len(raw), time.perf_counter() - started, show=show
    )

    requests = in_scope_requests(raw)
    figures["s1sp_templates"] = len(requests)
    dmc = find_dmc("secure-esme")
    catalogue = load_catalogue("4.3")
    credentials = generated_credentials()

    def round_trip(data: bytes, verify: bool) -> None:
        root = parse_xml(data)
        schema.is_valid(root)
        request = parse_request(root)
        adapter = SimulatedAdapter(dmc)  # a fresh estate per request, as `s1sr translate` does
        exchange = ReferenceS1SP(catalogue, dmc, adapter).handle(request)
        assert exchange.response is not None
        response = parse_xml(build_response(exchange.response, credentials))
        schema.is_valid(response)
        if verify:  # what the User side of `s1sr run` does with every response: read it, check its signature
            assert parse_response(response, credentials.cert_pem).signature.valid

    for verify, key, label in (
        (False, "s1sp_requests_per_s", "S1SP: parse+validate+translate+respond+sign+validate"),
        (True, "s1sp_verified_requests_per_s", "S1SP: the same + User-side read and verify"),
    ):
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            for data in requests:
                round_trip(data, verify)
            count += len(requests)
        figures[key] = rate(
            f"{label} ({len(requests)} ESME templates)", count, time.perf_counter() - started, "requests", show
        )
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xsd", default=None)
    parser.add_argument("--rtds", default=str(HERE.parent / "shared" / "rtds"))
    parser.add_argument("--seconds", type=float, default=3.0, help="time budget per lxml/translate measurement")
    parser.add_argument("--json", type=Path, help="also write the figures to this file (for benchmarks/all.py)")
    args = parser.parse_args()

    setting = find_schema(args.xsd, HERE)
    if setting.path is None:
        print("no DUIS schema: pass --xsd PATH or set S1SR_DUIS_XSD", file=sys.stderr)
        return 2
    files = sorted(Path(args.rtds).glob("*.XML"))
    if not files:
        print(f"no RTDS templates in {args.rtds}", file=sys.stderr)
        return 2
    figures = measure(Path(setting.path), files, args.seconds)
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
