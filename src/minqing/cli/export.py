"""The ``minqing export tickets`` command, and the audit record of every export the command line writes."""

from __future__ import annotations

from pathlib import Path

from minqing.cli.common import add_command, cli_actor

__all__ = ["add_commands", "audit_export"]


def cmd_export(args, store) -> int:
    """Export linked tickets."""
    from minqing.export.tickets import tickets_for_export, write_export

    df = tickets_for_export(store, unit=args.unit, start=args.start, end=args.end, masked=not args.unmasked)
    path = write_export(df, args.output, args.format)
    audit_export(store, "tickets", path, len(df), not args.unmasked)
    print(f"{len(df):,} tickets written to {path}")
    return 0


def audit_export(store, what: str, path, rows: int, masked: bool) -> None:
    """Record an export in the audit log: what, how many rows, masked or not, by whom (the login)."""
    from minqing.audit import audit

    audit(store, cli_actor(), "export", target=f"{what}:{Path(path).name}", rows=rows, masked=masked)


def add_commands(sub) -> None:
    """Add ``export tickets`` to the ``minqing`` sub-parsers."""
    ex = add_command(sub, "export", cmd_export, help="export tickets with their links (hex_id, unit codes, places)")
    ex.add_argument("what", choices=("tickets",))
    ex.add_argument("--unit", help="a unit code of any level")
    ex.add_argument("--from", dest="start", help="first received date (inclusive)")
    ex.add_argument("--to", dest="end", help="last received date (exclusive)")
    ex.add_argument("--format", choices=("csv", "xlsx", "geojson"))
    ex.add_argument("-o", "--output", default="tickets.csv")
    ex.add_argument("--unmasked", action="store_true",
                    help="export phone numbers, ID numbers and callers' names inside text and address unmasked "
                         "(personal data: only for the people handling these orders)")
