"""The ``minqing import`` and ``minqing quarantine list|export`` commands: hotline exports in, rows held back out."""

from __future__ import annotations

import sys

from minqing.cli.common import add_command, cli_actor

__all__ = ["add_commands"]


def _bar(desc: str):
    from tqdm import tqdm

    bar = tqdm(total=100, desc=desc, unit="%", file=sys.stderr, leave=False, disable=not sys.stderr.isatty())

    def update(stage, frac):
        bar.set_description(stage)
        bar.n = int(round(min(max(frac, 0.0), 1.0) * 100))
        bar.refresh()

    return bar, update


def cmd_import(args, store) -> int:
    """Import a hotline export (CSV, XLSX, GeoJSON, Open311 JSON)."""
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


def cmd_quarantine(args, store) -> int:
    """List or export quarantined rows."""
    import pandas as pd

    from minqing.cli.export import audit_export
    from minqing.export.tickets import quarantine_frame, write_export

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
    audit_export(store, "quarantine", path, len(df), not args.unmasked)
    print(f"{len(df):,} quarantined rows written to {path}; correct them and run `minqing import {path.name}`")
    return 0


def add_commands(sub) -> None:
    """Add ``import`` and ``quarantine`` to the ``minqing`` sub-parsers."""
    imp = add_command(sub, "import", cmd_import, help="import a hotline export (CSV, XLSX, GeoJSON, Open311 JSON)")
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

    q = add_command(sub, "quarantine", cmd_quarantine, help="list or export quarantined rows")
    q.add_argument("action", choices=("list", "export"))
    q.add_argument("--import-id", help="only rows of this import")
    q.add_argument("--all", action="store_true", help="include rows resolved by a later import")
    q.add_argument("-o", "--output", default="quarantine.csv")
    q.add_argument("--format", choices=("csv", "xlsx"))
    q.add_argument("--unmasked", action="store_true",
                   help="export callers' names and phone numbers unmasked (personal data: only for the people "
                        "handling these orders)")
