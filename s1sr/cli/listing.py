"""``s1sr clauses``, ``versions``, ``modifications``, ``dmcs``, ``adapters``: what the catalogue holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from s1sr.catalogue import DEFAULT_VERSION, Catalogue, load_catalogue, versions
from s1sr.cli.app import CATALOGUE_OPTION, FEATURES_OPTION, main, out

MODIFICATION_OPTION = click.option(
    "--modification",
    "modifications",
    multiple=True,
    metavar="ID",
    help="A modification pack in force on top of --s1sr-version, e.g. MP312 (repeatable).",
)


@main.command()
@click.option("--s1sr-version", default=DEFAULT_VERSION, show_default=True)
@MODIFICATION_OPTION
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@FEATURES_OPTION
@CATALOGUE_OPTION
@click.option("--matrix", is_flag=True, help="Print the clause x device-model map (Annex A, DMVES).")
def clauses(
    s1sr_version: str, modifications: tuple[str, ...], as_json: bool, feature_dirs: tuple[Path, ...], matrix: bool
) -> None:
    """List the clauses of an S1SR version (and packs in force), their provenance and the scenarios of each."""
    from rich.table import Table

    from s1sr.bundle import features_dir
    from s1sr.catalogue.modifications import with_modifications
    from s1sr.observability import DEVICE_STATE, scenario_views

    catalogue = load_catalogue(with_modifications(s1sr_version, modifications))
    if matrix:
        print_matrix(catalogue, as_json)
        return
    folders = list(feature_dirs) or [features_dir()]
    views = scenario_views(folders)  # per clause, one entry per scenario example: the counts too
    rows: list[dict[str, Any]] = [
        {
            "id": c.id,
            "title": c.title,
            "source": c.source,
            "srvs": list(c.srvs),
            "provenance": c.provenance,
            "detail_provenance": c.detail_provenance,
            "device_models": list(c.device_models),
            "scenarios": len(views.get(c.id, [])),
            # Judged whole by a User over DUIS: every step user-visible; with a rig, device state too.
            "observable_over_duis": sum(1 for v in views.get(c.id, []) if not v),
            "observable_over_duis_with_rig": sum(1 for v in views.get(c.id, []) if v <= {DEVICE_STATE}),
            "reading": c.reading,
        }
        for c in catalogue.clauses
    ]
    if as_json:
        out.print(json.dumps(rows, indent=2), markup=False)
        return
    table = Table(title=f"S1SR {catalogue.spec} ({catalogue.status}): Secure clauses")
    numeric = ("scenarios", "over DUIS")
    for column in ("clause", "title", "from", "SRVs", "provenance", "detail", *numeric):
        table.add_column(column, justify="right" if column in numeric else "left")
    for r in rows:
        table.add_row(
            r["id"],
            r["title"],
            r["source"],
            ", ".join(r["srvs"]) or "-",
            r["provenance"],
            r["detail_provenance"],
            str(r["scenarios"]),
            str(r["observable_over_duis"]),
        )
    out.print(table)
    out.print(
        "over DUIS: scenarios a DCC User can judge whole (s1sr run --target duis); the others have device-side "
        "steps, reported as not observable there",
        markup=False,
    )
    if catalogue.annex_c:
        annex = Table(title="Annex C defaults")
        for column in ("SRV", "command", "field", "value", "unit", "provenance"):
            annex.add_column(column)
        for d in catalogue.annex_c:
            annex.add_row(d.srv, d.command, d.field, json.dumps(d.value), d.unit or "-", d.provenance)
        out.print(annex)


def print_matrix(catalogue: Catalogue, as_json: bool) -> None:
    """The clause x device-model applicability map of one version."""
    from rich.table import Table

    from s1sr.catalogue import device_models

    models = [m for m in device_models().values() if m.device_type != "CHF"]
    rows = {c.id: {m.id: c.applies_to(m.id) for m in models} for c in catalogue.clauses}
    if as_json:
        out.print(json.dumps({"s1sr_version": catalogue.version, "matrix": rows}, indent=2), markup=False)
        return
    table = Table(title=f"S1SR {catalogue.version}: clauses by device model (Annex A); x applies, - not applicable")
    table.add_column("clause")
    for m in models:
        table.add_column(f"{m.id}\n{m.device_type}", justify="center")
    for clause_id, row in rows.items():
        table.add_row(clause_id, *("x" if row[m.id] else "-" for m in models))
    out.print(table)


@main.command(name="versions")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_versions(as_json: bool) -> None:
    """List the S1SR versions that have a catalogue."""
    rows = []
    for version in versions():
        catalogue = load_catalogue(version)
        rows.append({"version": version, "status": catalogue.status, "clauses": len(catalogue.clauses)})
    if as_json:
        out.print(json.dumps(rows, indent=2), markup=False)
        return
    for row in rows:
        out.print(f"{row['version']}  {row['status']}  ({row['clauses']} clauses)", markup=False)


@main.command(name="modifications")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@CATALOGUE_OPTION
def list_modifications(as_json: bool) -> None:
    """List the modification packs: status, the versions each applies to, what it changes, and its sources."""
    from rich.table import Table

    from s1sr.catalogue.modifications import known_modifications

    packs = list(known_modifications().values())
    if as_json:
        out.print(json.dumps([p.as_dict() for p in packs], indent=2), markup=False)
        return
    table = Table(title="Modification packs (s1sr run --modification ID)")
    for column in ("id", "title", "status", "applies to", "changes", "sources"):
        table.add_column(column)
    for pack in packs:
        d = pack.as_dict()
        changes = [
            f"{label}: {', '.join(d[key])}"
            for key, label in (
                ("clauses_added", "adds clause"),
                ("clauses_changed", "changes clause"),
                ("clauses_withdrawn", "withdraws clause"),
                ("roles_added", "adds role"),
                ("srv_rules_changed", "changes SRV"),
            )
            if d[key]
        ]
        sources = "; ".join(f"{s.title} ({s.date})" for s in pack.sources)
        table.add_row(pack.id, pack.title, pack.status, ", ".join(pack.applies_to), "\n".join(changes), sources)
    out.print(table)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def dmcs(as_json: bool) -> None:
    """List the Device Model Combinations."""
    from s1sr.catalogue import dmcs as all_dmcs

    found = list(all_dmcs().values())
    if as_json:
        rows = [
            {
                "id": d.id,
                "default": d.default,
                "meter": {"id": d.meter.id, "model": d.meter.model, "fuel": d.meter.fuel},
                "comms_hub": {"id": d.comms_hub.id, "model": d.comms_hub.model},
            }
            for d in found
        ]
        out.print(json.dumps(rows, indent=2), markup=False)
        return
    for dmc in found:
        default = " (default)" if dmc.default else ""
        out.print(f"{dmc.id}{default}: {dmc.meter.model} behind {dmc.comms_hub.model}", markup=False)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def adapters(as_json: bool) -> None:
    """List the device adapters that can be named with --adapter."""
    from dataclasses import asdict

    from s1sr.devices.registry import available_adapters

    found = available_adapters()
    if as_json:
        out.print(json.dumps([asdict(a) for a in found], indent=2), markup=False)
        return
    for a in found:
        models = ", ".join(a.device_models) or "any device model"
        out.print(f"{a.name:<12} {models:<40} {a.source}  {a.description}", markup=False)
