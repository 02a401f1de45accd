"""The ``minqing units import``, ``minqing places import`` and ``minqing relink`` commands: the city's own layers."""

from __future__ import annotations

import argparse

from minqing.cli.common import add_command

__all__ = ["add_commands"]


def cmd_units_import(args, store) -> int:
    """Load one level of administrative units."""
    from minqing.ingest.layers_import import import_units

    cols = {k: v for k, v in (("code", args.code_col), ("name", args.name_col), ("parent_code", args.parent_col),
                              ("population", args.population_col), ("valid_from", args.valid_from_col)) if v}
    r = import_units(store, args.file, args.level, crs=args.crs, columns=cols, mapping_file=args.mapping,
                     valid_from=args.valid_from, partial=args.partial)
    _print_layer_report(r)
    return 0


def cmd_places_import(args, store) -> int:
    """Load places."""
    from minqing.ingest.layers_import import import_places

    cols = {k: v for k, v in (("place_id", args.id_col), ("name", args.name_col), ("kind", args.kind_col)) if v}
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


def cmd_relink(args, store) -> int:
    """Re-link stored tickets after a layer changed."""
    from minqing.geo.link import apply_links, link_tickets
    from minqing.store.base import TicketFilter

    tickets = store.read_tickets(TicketFilter(columns=("source_id", "received_at", "lon", "lat")))
    units, places = store.read_units(), store.read_places()
    result = link_tickets(tickets, units, places if len(places) else None)
    linked, place_links = apply_links(tickets, result)
    n = store.write_relinked(linked, place_links)
    print(f"{n:,} tickets re-linked ({int(linked['grid_code'].notna().sum()):,} in a grid, {len(place_links):,} place links)")
    return 0


def _import_command(sub, layer: str, handler, help: str, what: str) -> argparse.ArgumentParser:
    """Add the command ``minqing <layer> import FILE`` loading ``what``; return its parser."""
    group = sub.add_parser(layer, help=help)
    gsub = group.add_subparsers(dest=f"{layer}_action", required=True)
    p = add_command(gsub, "import", handler, help=f"load {what} from GeoJSON, GeoPackage or Shapefile (any CRS)")
    p.add_argument("file")
    return p


def add_commands(sub) -> None:
    """Add ``units import``, ``places import`` and ``relink`` to the ``minqing`` sub-parsers."""
    ui = _import_command(sub, "units", cmd_units_import, "load your own administrative layers", "one level")
    ui.add_argument("--level", required=True, choices=("district", "subdistrict", "community", "grid"))
    ui.add_argument("--crs", choices=("wgs84", "gcj02", "bd09"), default="wgs84",
                    help="declare GCJ-02 or BD-09 coordinates (a projected CRS in the file is reprojected anyway)")
    for column in ("code", "name", "parent", "population", "valid-from"):
        ui.add_argument(f"--{column}-col")
    ui.add_argument("--valid-from", help="date the layer takes effect (default: a level's first layer is valid "
                                         "for all time, a new version from today)")
    ui.add_argument("--mapping", help="TOML file with a [units] table: field = column")
    ui.add_argument("--partial", action="store_true", help="the file holds only some units: keep the others open")

    pi = _import_command(sub, "places", cmd_places_import, "load your own places (点位)", "places")
    pi.add_argument("--crs", choices=("wgs84", "gcj02", "bd09"), default="wgs84")
    pi.add_argument("--kind", choices=("hospital_entrance", "road_stretch", "compound", "other"))
    for column in ("id", "name", "kind"):
        pi.add_argument(f"--{column}-col")
    pi.add_argument("--mapping", help="TOML file with a [places] table: field = column")

    add_command(sub, "relink", cmd_relink, help="re-link stored tickets to the current layers")
