"""The ``minqing`` command."""

from __future__ import annotations

import argparse
import errno
import sqlite3
import sys

from minqing.errors import MinqingError


def _open(args):
    from minqing.store import open_store

    return open_store(args.db)


def cmd_demo(args) -> int:
    """Build (or rebuild) the demo store."""
    from minqing.demo.build import build_demo

    with _open(args) as store:
        if args.if_missing and store.ticket_count() > 0:
            print(f"demo store already filled ({store.ticket_count():,} tickets): {_shown(store.url)}")
            _demo_accounts(store)
            return 0

        def progress(stage, frac):
            print(f"[{frac:4.0%}] {stage}", file=sys.stderr, flush=True)

        report = build_demo(store, seed=args.seed, n_tickets=args.tickets, progress=progress)
        print(
            f"demo built in {_shown(store.url)}: {report.units} units, {report.places} places, "
            f"{report.tickets:,} tickets ({report.located:,} linked to a grid, {report.place_links:,} place links), "
            f"{report.interventions} interventions"
        )
        print("stage seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in report.seconds.items()))
        _demo_accounts(store)
    return 0


def _demo_accounts(store) -> None:
    """Create the missing demo accounts, keep their passwords in demo_users.txt (0600) and print them once."""
    from minqing.demo.users import demo_users, write_demo_users_file
    from minqing.cli.accounts import print_demo_users

    created = demo_users(store)
    path = write_demo_users_file(store, created)
    print_demo_users(store, created, path)


def _shown(url: str) -> str:
    """The store URL as printed: any password as ``***``."""
    from minqing.privacy import redact_url

    return redact_url(url)


def cmd_info(args) -> int:
    """Print what the store holds."""
    with _open(args) as store:
        units = store.read_units()
        print(f"store: {_shown(store.url)} (schema version {store.schema_version()})")
        for level, n in units.groupby("level").size().items():
            print(f"  {level}: {n} unit versions")
        print(f"  places: {len(store.read_places())}")
        print(f"  tickets: {store.ticket_count():,}")
        print(f"  interventions: {len(store.read_interventions()[0])}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``minqing`` command."""
    from minqing.demo.build import DEMO_SEED, DEMO_TICKETS

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

    from minqing.cli.interventions import add_intervention_parser

    add_intervention_parser(sub, _open)

    from minqing.cli.accounts import add_account_commands

    add_account_commands(sub, _open)

    from minqing.cli.settings import add_settings_commands

    add_settings_commands(sub, _open)

    from minqing.cli.imports import add_commands as add_ingest_commands

    add_ingest_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code.

    A failure ends with one line on standard error saying what went wrong and
    what to do, and exit code 2 (130 when interrupted), never a traceback. An
    unexpected error is logged without personal data (:mod:`minqing.errlog`)
    and the line gives its reference.
    """
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        _eprint("interrupted; the write in progress was rolled back (an import is all or nothing)")
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place every failure becomes a message
        _eprint(f"error: {_explain(exc, args)}")
        return 2


def _eprint(text: str) -> None:
    """Print to standard error, whatever the terminal's encoding."""
    try:
        print(text, file=sys.stderr, flush=True)
    except UnicodeEncodeError:
        enc = getattr(sys.stderr, "encoding", None) or "ascii"
        print(text.encode(enc, "backslashreplace").decode(enc, "replace"), file=sys.stderr, flush=True)


def _explain(exc: Exception, args) -> str:
    """The message for a failure: ours as they are, the environment's in plain words, the rest by reference."""
    command = f"`minqing {args.command}`"
    if isinstance(exc, MinqingError):
        return str(exc)
    from minqing.store.sqlite.util import is_store_condition, store_error

    if isinstance(exc, sqlite3.Error) and is_store_condition(exc):
        return str(store_error(exc, _store_path(args), "write"))
    if isinstance(exc, OSError):
        return _os_message(exc, args, command)
    if isinstance(exc, UnicodeEncodeError):
        enc = getattr(sys.stdout, "encoding", None) or "?"
        return (f"the terminal's encoding ({enc}) cannot show Chinese text; use a UTF-8 terminal or set "
                "PYTHONIOENCODING=utf-8, then retry")
    if isinstance(exc, UnicodeDecodeError):
        file = getattr(args, "file", None) or getattr(args, "mapping", None)
        return (f"text could not be decoded as {exc.encoding} (byte {exc.start}){f' while reading {file}' if file else ''}; "
                "save the file as UTF-8 and retry")
    if isinstance(exc, MemoryError):
        return (f"out of memory while running {command}; close other programs, split the file into smaller ones, "
                "or run it on a machine with more memory")
    from minqing.errlog import log_unexpected

    ref, where = log_unexpected(exc, where=f"cli {args.command}", store_url=getattr(args, "db", None))
    if isinstance(exc, RecursionError):
        return (f"the data is nested too deeply to process in {command} (reference {ref}); simplify or re-export it. "
                f"The administrator can find the details in {where}")
    return f"unexpected error (reference {ref}); the administrator can find it in {where}"


def _store_path(args) -> str:
    from minqing.config import database_url, sqlite_path
    from minqing.privacy import redact_url

    try:
        url = getattr(args, "db", None) or database_url()
        return str(sqlite_path(url)) if url.startswith("sqlite:") else redact_url(url)
    except Exception:  # noqa: BLE001 - only for the message
        return "the store"


def _os_message(exc: OSError, args, command: str) -> str:
    """A file-system failure in plain words, naming the file and the fix."""
    output = getattr(args, "output", None)
    name = exc.filename or output
    where = f" {name}" if name else ""
    code = exc.errno
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
        return (f"the disk is full (no space left while writing{where or ' in ' + command}); nothing more was written: "
                "free some space or write to another disk (-o), then retry")
    if code == errno.EROFS:
        return f"the file system holding{where} is read-only; choose a writable folder (-o) and retry"
    if isinstance(exc, PermissionError):
        return (f"permission denied for{where or ' a file'}; check that you may read or write it and its folder, "
                "or choose another path (-o)")
    if isinstance(exc, FileNotFoundError):
        return (f"no such file or folder:{where}; check the path (the folder of an output file must exist "
                "already) and retry")
    if isinstance(exc, IsADirectoryError):
        return f"{name} is a folder; give a file name (e.g. -o {name}/tickets.csv)"
    if isinstance(exc, NotADirectoryError):
        return f"a part of the path{where} is a file, not a folder; check the path and retry"
    reason = exc.strerror or type(exc).__name__
    return f"{reason}{':' + where if where else ''} while running {command}; check the path, the disk and permissions"


if __name__ == "__main__":
    sys.exit(main())
