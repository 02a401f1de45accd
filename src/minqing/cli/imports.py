"""The importer's subcommands: ``import``, ``quarantine list|export``, ``export tickets``, ``relink``."""

from __future__ import annotations

import sys
from pathlib import Path

from minqing.model import TICKET_COLUMNS


def _open(args):
    from minqing.store import open_store

    return open_store(args.db)


def _bar(desc: str):
    from tqdm import tqdm

    bar = tqdm(total=100, desc=desc, unit="%", file=sys.stderr, leave=False, disable=not sys.stderr.isatty())

    def update(stage, frac):
        bar.set_description(stage)
        bar.n = int(round(min(max(frac, 0.0), 1.0) * 100))
        bar.refresh()

    return bar, update


def cmd_import(args) -> int:
    """Import a hotline export (CSV, XLSX, GeoJSON, Open311 JSON)."""
    from minqing.cli.accounts import cli_actor
    from minqing.ingest.pipeline import ImportOptions, import_file, preview_file

    options = ImportOptions(crs=args.crs, timezone=args.timezone, sheet=args.sheet, mapping_file=args.mapping,
                            user=args.user or cli_actor(), dry_run=args.dry_run, match_threshold=args.match_threshold,
                            workers=args.workers, date_order=getattr(args, "date_order", None),
                            earliest=getattr(args, "earliest", None))
    if args.dry_run:
        pv = preview_file(args.file, options)
        print(f"file: {pv.source.path.name} ({pv.source.format}, encoding {pv.source.encoding}, "
              f"delimiter {pv.source.delimiter!r})")
        print("mapping (field <- column):")
        for fld, col in pv.mapping.fields.items():
            print(f"  {fld:16s} <- {col}")
        if pv.mapping.unknown:
            print("kept in extra: " + ", ".join(pv.mapping.unknown))
        cols = [c for c in ("source_id", "received_at", "channel", "kind", "category", "lon", "lat", "location_source")
                if c in pv.tickets.columns]
        print(pv.tickets[cols].to_string(index=False) if len(pv.tickets) else "(no rows)")
    with _open(args) as store:
        bar, update = _bar("import")
        try:
            report = import_file(store, args.file, options, progress=update)
        finally:
            bar.close()
    _print_report(report)
    if report.rows_read and not (report.inserted or report.updated or report.unchanged or report.duplicates):
        # every row read was quarantined: nothing of the file is in the store (a script must notice)
        print("nothing was stored: every row was quarantined; see `minqing quarantine list`", file=sys.stderr)
        return 3
    return 0


def _shown(value, limit: int = 60) -> str:
    """A raw value as printed in a report: phone and ID numbers masked, one line, cut short."""
    from minqing.privacy import mask_text

    text = " ".join(str(mask_text(str(value)) or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _print_report(r) -> None:
    verb = "checked (dry run, nothing written)" if r.dry_run else "imported"
    print(f"{r.file} {verb}: read {r.rows_read:,} = inserted {r.inserted:,} + updated {r.updated:,} + "
          f"unchanged {r.unchanged:,} + quarantined {r.quarantined:,} + duplicates {r.duplicates:,}"
          f"{'' if r.reconciles() else '  (DOES NOT RECONCILE)'}")
    print(f"located by address {r.located_by_address:,}, unlocated {r.unlocated:,}, linked to a unit {r.linked:,}")
    if getattr(r, "date_order", None):
        print(f"date order: {r.date_order}")
    from minqing.ingest.errors import REASONS, WARNINGS

    for title, counts, texts in (("quarantined", r.reasons, REASONS), ("warnings", r.warnings, WARNINGS)):
        for code, n in sorted(counts.items(), key=lambda kv: -kv[1]):
            ex = "; ".join(f"row {e['row']} {_shown(e['source_id'])} {_shown(e['value'] or '')}".strip()
                           for e in r.examples.get(code, []))
            print(f"  {title}: {code} x{n:,} - {texts.get(code, '')}" + (f" (e.g. {ex})" if ex else ""))
    for fld, values in r.unknown_values.items():
        print(f"  unknown {fld} values (add them to [values.{fld}] in a mapping file): "
              + ", ".join(f"{_shown(k)!r} x{v}" for k, v in values.items()))
    for fld, n in (getattr(r, "unreadable", None) or {}).items():
        ex = (getattr(r, "unreadable_examples", None) or {}).get(fld)
        print(f"  {fld}: {n:,} unreadable, stored blank" + (f" (e.g. {_shown(ex)!r})" if ex else ""))
    if r.notes:
        print("  notes: " + ", ".join(r.notes))
    print("stage seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in r.seconds.items()))
    print(f"import id: {r.import_id}")


def cmd_quarantine(args) -> int:
    """List or export quarantined rows."""
    import pandas as pd

    from minqing.export.tickets import quarantine_frame, write_export

    with _open(args) as store:
        if args.action == "list":
            q = store.read_quarantine(args.import_id, args.all)
            if q.empty:
                print("no quarantined rows")
                return 0
            q = q[["import_id", "file_name", "row_number", "source_id", "reason", "detail"]].copy()
            q["detail"] = [None if pd.isna(v) else _shown(v) for v in q["detail"]]
            print(q.to_string(index=False))
            return 0
        df = quarantine_frame(store, args.import_id, args.all, masked=not args.unmasked)
        path = write_export(df, args.output, args.format)
        _audit_export(store, "quarantine", path, len(df), not args.unmasked)
    print(f"{len(df):,} quarantined rows written to {path}; correct them and run `minqing import {path.name}`")
    return 0


def cmd_export(args) -> int:
    """Export linked tickets."""
    from minqing.export.tickets import tickets_for_export, write_export

    with _open(args) as store:
        df = tickets_for_export(store, unit=args.unit, start=args.start, end=args.end, masked=not args.unmasked)
        path = write_export(df, args.output, args.format)
        _audit_export(store, "tickets", path, len(df), not args.unmasked)
    print(f"{len(df):,} tickets written to {path}")
    return 0


def _audit_export(store, what: str, path, rows: int, masked: bool) -> None:
    """Record an export in the audit log: what, how many rows, masked or not, by whom (the login)."""
    from minqing.audit import audit
    from minqing.cli.accounts import cli_actor

    audit(store, cli_actor(), "export", target=f"{what}:{Path(path).name}", rows=rows, masked=masked)


def cmd_relink(args) -> int:
    """Re-link stored tickets after a layer changed."""
    from minqing.geo.link import apply_links, link_tickets
    from minqing.store.base import TicketFilter

    with _open(args) as store:
        tickets = store.read_tickets(TicketFilter(columns=("source_id", "received_at", "lon", "lat")))
        units, places = store.read_units(), store.read_places()
        result = link_tickets(tickets, units, places if len(places) else None)
        linked, place_links = apply_links(tickets, result)
        n = store.write_relinked(linked, place_links)
    print(f"{n:,} tickets re-linked ({int(linked['grid_code'].notna().sum()):,} in a grid, {len(place_links):,} place links)")
    return 0


def cmd_units_import(args) -> int:
    """Load one level of administrative units."""
    from minqing.ingest.layers_import import import_units

    cols = {k: v for k, v in (("code", args.code_col), ("name", args.name_col), ("parent_code", args.parent_col),
                              ("population", args.population_col), ("valid_from", args.valid_from_col)) if v}
    with _open(args) as store:
        r = import_units(store, args.file, args.level, crs=args.crs, columns=cols, mapping_file=args.mapping,
                         valid_from=args.valid_from, partial=args.partial)
    _print_layer_report(r)
    return 0


def cmd_places_import(args) -> int:
    """Load places."""
    from minqing.ingest.layers_import import import_places

    cols = {k: v for k, v in (("place_id", args.id_col), ("name", args.name_col), ("kind", args.kind_col)) if v}
    with _open(args) as store:
        r = import_places(store, args.file, crs=args.crs, kind=args.kind, columns=cols, mapping_file=args.mapping)
    _print_layer_report(r)
    return 0


def _print_layer_report(r) -> None:
    closed = f", {r.closed} old versions closed (valid_to {r.valid_from})" if r.closed else ""
    retired = f", {r.retired} retired versions kept as history (their valid_to)" if getattr(r, "retired", 0) else ""
    print(f"{r.file}: {r.read} read, {r.new} new, {r.new_versions} new versions, {r.unchanged} unchanged"
          f"{closed}{retired}; valid from {r.valid_from or '-'}")
    if r.repaired:
        print(f"  {r.repaired} invalid geometries repaired")
    if r.overlaps:
        print(f"  overlaps: {len(r.overlaps)} pairs, {r.overlap_m2:,.0f} m² in all, e.g. "
              + "; ".join(f"{a}/{b} {m:,.0f} m²" for a, b, m in r.overlaps[:5]))
    if r.gap_m2:
        print(f"  gaps inside the layer: {r.gap_m2:,.0f} m²")
    if getattr(r, "parents_inferred", 0):
        print(f"  {r.parents_inferred} unit(s) got their parent from the coarser layer that contains them")
    if r.orphans:
        print(f"  {len(r.orphans)} unit(s) without a loaded parent, e.g. {', '.join(r.orphans[:5])}")
    if r.absent:
        print(f"  {len(r.absent)} current unit(s) missing from the file, e.g. {', '.join(r.absent[:5])}")
    print("run `minqing relink` so stored tickets follow the new layers")


def add_commands(sub) -> None:
    """Register the importer's subcommands on the ``minqing`` parser's subparsers."""
    imp = sub.add_parser("import", help="import a hotline export (CSV, XLSX, GeoJSON, Open311 JSON)")
    imp.add_argument("file")
    imp.add_argument("--crs", choices=("wgs84", "gcj02", "bd09"), help="coordinate system of the file (default wgs84)")
    imp.add_argument("--timezone", help="time zone of times without an offset (default Asia/Shanghai)")
    imp.add_argument("--sheet", help="XLSX sheet name (default: the first)")
    imp.add_argument("--mapping", help="TOML mapping file ([columns] field = \"header\", [options] crs = ...)")
    imp.add_argument("--user", help="who runs the import (stored with the report)")
    imp.add_argument("--match-threshold", type=float, default=85.0, help="address match score 0-100 (default 85)")
    imp.add_argument("--dry-run", action="store_true", help="show the mapping and first rows, check all, write nothing")
    imp.add_argument("--workers", type=int, default=None,
                     help="worker processes (default: one per core, up to 4, for files over 8 MiB; 1 = none)")
    imp.add_argument("--date-order", choices=("MDY", "DMY", "YMD"), type=str.upper,
                     help="order of day, month and year in dates like 12/31/2017 (default: inferred from the file)")
    imp.add_argument("--earliest", help="earliest accepted time, e.g. 1990-01-01 (default: no floor)")
    imp.set_defaults(func=cmd_import)

    from minqing.ingest.mapping_init import add_mapping_command

    add_mapping_command(sub)

    q = sub.add_parser("quarantine", help="list or export quarantined rows")
    q.add_argument("action", choices=("list", "export"))
    q.add_argument("--import-id", help="only rows of this import")
    q.add_argument("--all", action="store_true", help="include rows resolved by a later import")
    q.add_argument("-o", "--output", default="quarantine.csv")
    q.add_argument("--format", choices=("csv", "xlsx"))
    q.add_argument("--unmasked", action="store_true",
                   help="export callers' names and phone numbers unmasked (personal data: only for the people "
                        "handling these orders)")
    q.set_defaults(func=cmd_quarantine)

    units = sub.add_parser("units", help="load your own administrative layers")
    units_sub = units.add_subparsers(dest="units_action", required=True)
    ui = units_sub.add_parser("import", help="load one level from GeoJSON, GeoPackage or Shapefile (any CRS)")
    ui.add_argument("file")
    ui.add_argument("--level", required=True, choices=("district", "subdistrict", "community", "grid"))
    ui.add_argument("--crs", choices=("wgs84", "gcj02", "bd09"), default="wgs84",
                    help="declare GCJ-02 or BD-09 coordinates (a projected CRS in the file is reprojected anyway)")
    ui.add_argument("--code-col")
    ui.add_argument("--name-col")
    ui.add_argument("--parent-col")
    ui.add_argument("--population-col")
    ui.add_argument("--valid-from-col")
    ui.add_argument("--valid-from", help="date the layer takes effect (default: a level's first layer is valid "
                                         "for all time, a new version from today)")
    ui.add_argument("--mapping", help="TOML file with a [units] table: field = column")
    ui.add_argument("--partial", action="store_true", help="the file holds only some units: keep the others open")
    ui.set_defaults(func=cmd_units_import)

    places = sub.add_parser("places", help="load your own places (点位)")
    places_sub = places.add_subparsers(dest="places_action", required=True)
    pi = places_sub.add_parser("import", help="load places from GeoJSON, GeoPackage or Shapefile (any CRS)")
    pi.add_argument("file")
    pi.add_argument("--crs", choices=("wgs84", "gcj02", "bd09"), default="wgs84")
    pi.add_argument("--kind", choices=("hospital_entrance", "road_stretch", "compound", "other"))
    pi.add_argument("--id-col")
    pi.add_argument("--name-col")
    pi.add_argument("--kind-col")
    pi.add_argument("--mapping", help="TOML file with a [places] table: field = column")
    pi.set_defaults(func=cmd_places_import)

    ex = sub.add_parser("export", help="export tickets with their links (hex_id, unit codes, places)")
    ex.add_argument("what", choices=("tickets",))
    ex.add_argument("--unit", help="a unit code of any level")
    ex.add_argument("--from", dest="start", help="first received date (inclusive)")
    ex.add_argument("--to", dest="end", help="last received date (exclusive)")
    ex.add_argument("--format", choices=("csv", "xlsx", "geojson"))
    ex.add_argument("-o", "--output", default="tickets.csv")
    ex.add_argument("--unmasked", action="store_true",
                    help="export phone numbers, ID numbers and callers' names inside text and address unmasked "
                         "(personal data: only for the people handling these orders)")
    ex.set_defaults(func=cmd_export)

    rl = sub.add_parser("relink", help="re-link stored tickets to the current layers")
    rl.set_defaults(func=cmd_relink)


__all__ = ["add_commands", "TICKET_COLUMNS"]
