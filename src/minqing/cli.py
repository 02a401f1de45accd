"""The ``minqing`` command."""

from __future__ import annotations

import argparse
import sys

from minqing.errors import MinqingError


def _open(args):
    from minqing.store import open_store

    return open_store(args.db)


def cmd_demo(args) -> int:
    """Build (or rebuild) the demo store."""
    from minqing.demo_build import build_demo

    with _open(args) as store:
        if args.if_missing and store.ticket_count() > 0:
            print(f"demo store already filled ({store.ticket_count():,} tickets): {store.url}")
            return 0

        def progress(stage, frac):
            print(f"[{frac:4.0%}] {stage}", file=sys.stderr, flush=True)

        report = build_demo(store, seed=args.seed, n_tickets=args.tickets, progress=progress)
    print(
        f"demo built in {store.url}: {report.units} units, {report.places} places, "
        f"{report.tickets:,} tickets ({report.located:,} linked to a grid, {report.place_links:,} place links), "
        f"{report.interventions} interventions"
    )
    print("stage seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in report.seconds.items()))
    return 0


def cmd_info(args) -> int:
    """Print what the store holds."""
    with _open(args) as store:
        units = store.read_units()
        print(f"store: {store.url} (schema version {store.schema_version()})")
        for level, n in units.groupby("level").size().items():
            print(f"  {level}: {n} unit versions")
        print(f"  places: {len(store.read_places())}")
        print(f"  tickets: {store.ticket_count():,}")
        print(f"  interventions: {len(store.read_interventions()[0])}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``minqing`` command."""
    from minqing.demo_build import DEMO_SEED, DEMO_TICKETS

    parser = argparse.ArgumentParser(prog="minqing", description="Minqing Map (民情地图) command line")
    parser.add_argument("--db", help="store URL (default: MINQING_DATABASE_URL or sqlite:///data/minqing.sqlite)")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="build the demo store (Yangpu, seeded scenario)")
    demo.add_argument("--seed", type=int, default=DEMO_SEED)
    demo.add_argument("--tickets", type=int, default=DEMO_TICKETS)
    demo.add_argument("--if-missing", action="store_true", help="do nothing when the store already has tickets")
    demo.set_defaults(func=cmd_demo)

    info = sub.add_parser("info", help="show what the store holds")
    info.set_defaults(func=cmd_info)

    from minqing.iv_cli import add_intervention_parser

    add_intervention_parser(sub, _open)

    from minqing.ingest.commands import add_commands as add_ingest_commands

    add_ingest_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except MinqingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
