"""``junit.xml``: one testcase per scenario example, the clause in the classname (CI servers read it).

A ``waived`` scenario is a ``skipped`` testcase whose message names the waiver (number, reason, reference,
who accepted it, expiry) and the outcome it had. JUnit has no status for "failed, and accepted as a known
deviation": a ``failure`` would fail the CI job of a run whose verdict is CONFORMANT, and no child at all
would count it as a pass. ``skipped`` is the one status CI servers show as neither; the testcase's
``waived_outcome`` and ``waiver`` properties and the suite's ``waived`` property keep it distinct from a
scenario that is not applicable or did not run.
"""

from __future__ import annotations

from lxml import etree

from s1sr.report.results import RunRecord


def junit_xml(record: RunRecord) -> bytes:
    """The JUnit XML document for a run."""
    counts = record.summary()
    total_time = sum(s.duration_s for s in record.scenarios)
    suites = etree.Element("testsuites", name=f"s1sr S1SR {record.s1sr_version}")
    suite = etree.SubElement(
        suites,
        "testsuite",
        name=f"S1SR {record.s1sr_version} on {', '.join(record.dmc)}",
        tests=str(len(record.scenarios)),
        failures=str(counts["failed"]),
        errors=str(counts["error"]),
        skipped=str(counts["not applicable"] + counts["not run"] + counts["waived"]),
        time=f"{total_time:.3f}",
        timestamp=record.started,
    )
    properties = etree.SubElement(suite, "properties")
    for name, value in (
        ("s1sr_version", record.s1sr_version),
        ("dmc", ",".join(record.dmc)),
        ("adapter", record.adapter),
        ("s1sp", record.s1sp),
        ("xsd", record.xsd or ""),
        ("verdict", record.verdict()),
        ("verdict_reason", record.verdict_and_reason()[1]),
        ("interrupted", "true" if record.interrupted else "false"),
        ("not_observable_steps", str(record.not_observable()["steps"])),
        ("waived", str(counts["waived"])),
        ("waivers", (record.deviations or {}).get("source", "")),
    ):
        etree.SubElement(properties, "property", name=name, value=value)
    for s in record.scenarios:
        clauses = "+".join(s.clauses) or "none"
        case = etree.SubElement(
            suite,
            "testcase",
            classname=f"s1sr.{record.s1sr_version}.clause-{clauses}",
            name=f"{s.name} [{s.dmc}]",
            time=f"{s.duration_s:.3f}",
            file=s.feature_file,
        )
        case_properties = etree.SubElement(case, "properties")
        etree.SubElement(case_properties, "property", name="id", value=s.id)
        for step in s.not_observed:  # device-side steps this target could not observe: shown, never hidden
            etree.SubElement(case_properties, "property", name="not_observable", value=step)
        if s.outcome == "failed":
            etree.SubElement(case, "failure", message=s.reason[:500], type="non-conformance").text = s.reason
        elif s.outcome == "error":
            etree.SubElement(case, "error", message=s.reason[:500], type="error").text = s.reason
        elif s.outcome in ("not applicable", "not run"):
            etree.SubElement(case, "skipped", message=f"{s.outcome}: {s.reason}"[:500])
        elif s.outcome == "waived" and s.waiver is not None:
            w = s.waiver
            etree.SubElement(case_properties, "property", name="waived_outcome", value=str(s.waived_outcome))
            etree.SubElement(case_properties, "property", name="waiver", value=f"{w['number']}: {w['reference']}")
            message = (
                f"waived ({s.waived_outcome}) by waiver {w['number']}: {w['reason']} [{w['reference']}], "
                f"accepted by {w['accepted_by']}, expires {w['expires']}"
            )
            etree.SubElement(case, "skipped", message=message[:500]).text = f"{message}\n{s.waived_outcome}: {s.reason}"
    return bytes(etree.tostring(suites, xml_declaration=True, encoding="UTF-8", pretty_print=True))
