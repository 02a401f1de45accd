"""The ``minqing demo`` and ``minqing info`` commands: build the demo store, say what a store holds."""

from __future__ import annotations

import sys

from minqing.cli.common import add_command, shown_url

__all__ = ["add_commands", "print_demo_users"]


def cmd_demo(args, store) -> int:
    """Build (or rebuild) the demo store."""
    from minqing.demo.build import build_demo

    if args.if_missing and store.ticket_count() > 0:
        print(f"demo store already filled ({store.ticket_count():,} tickets): {shown_url(store.url)}")
        _demo_accounts(store)
        return 0

    def progress(stage, frac):
        print(f"[{frac:4.0%}] {stage}", file=sys.stderr, flush=True)

    report = build_demo(store, seed=args.seed, n_tickets=args.tickets, progress=progress)
    print(
        f"demo built in {shown_url(store.url)}: {report.units} units, {report.places} places, "
        f"{report.tickets:,} tickets ({report.located:,} linked to a grid, {report.place_links:,} place links), "
        f"{report.interventions} interventions"
    )
    print("stage seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in report.seconds.items()))
    _demo_accounts(store)
    return 0


def _demo_accounts(store) -> None:
    """Create the missing demo accounts, keep their passwords in demo_users.txt (0600) and print them once."""
    from minqing.demo.users import demo_users, write_demo_users_file

    created = demo_users(store)
    path = write_demo_users_file(store, created)
    print_demo_users(store, created, path)


def print_demo_users(store, created, path) -> None:
    """Print the demo accounts created now (the one time their passwords are shown) and where they are kept."""
    shown = shown_url(store.url)
    if created:
        print(f"演示账号 / demo users ({shown}) — shown once, keep them:")
        for name, role, password in created:
            print(f"  {name} / {password}    ({role})")
        if path is not None:
            print(f"saved to {path} (readable only by you); change them with `minqing user passwd NAME`")
    elif path is not None and path.exists():
        print(f"演示账号 / demo users exist already; their first passwords are in {path}")


def cmd_info(args, store) -> int:
    """Print what the store holds."""
    units = store.read_units()
    print(f"store: {shown_url(store.url)} (schema version {store.schema_version()})")
    for level, n in units.groupby("level").size().items():
        print(f"  {level}: {n} unit versions")
    print(f"  places: {len(store.read_places())}")
    print(f"  tickets: {store.ticket_count():,}")
    print(f"  interventions: {len(store.read_interventions()[0])}")
    return 0


def add_commands(sub) -> None:
    """Add ``demo`` and ``info`` to the ``minqing`` sub-parsers."""
    from minqing.demo.build import DEMO_SEED, DEMO_TICKETS

    demo = add_command(sub, "demo", cmd_demo, help="build the demo store (Yangpu, seeded scenario)")
    demo.add_argument("--seed", type=int, default=DEMO_SEED)
    demo.add_argument("--tickets", type=int, default=DEMO_TICKETS)
    demo.add_argument("--if-missing", action="store_true", help="do nothing when the store already has tickets")
    add_command(sub, "info", cmd_info, help="show what the store holds")
