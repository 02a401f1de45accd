"""The ``minqing`` command: its parser, built from one module per command group, and its one error boundary.

Each group (:data:`GROUPS`) adds its commands with
:func:`minqing.cli.common.add_command`; :func:`main` parses the line, opens the
store once, runs the command's handler and turns any failure into one line on
standard error.
"""

from __future__ import annotations

import argparse
import errno
import sqlite3
import sys

from minqing.cli import accounts, copy, demo, export, imports, interventions, layers, mapping, migrate, settings
from minqing.cli.common import open_cli_store, shown_url
from minqing.errors import MinqingError

GROUPS = (demo, interventions, accounts, settings, migrate, copy, imports, mapping, layers, export)
"""The command groups, in the order ``minqing --help`` lists their commands; each has ``add_commands(sub)``."""


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``minqing`` command, one command group after another."""
    parser = argparse.ArgumentParser(prog="minqing", description="Minqing Map (民情地图) command line")
    parser.add_argument("--db", help="store URL (default: MINQING_DATABASE_URL or sqlite:///data/minqing.sqlite)")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_commands(sub)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run the command of parsed ``args``: open the store (unless it needs none), run the handler, close the store."""
    if not args.needs_store:
        return args.handler(args, None)
    with open_cli_store(args) as store:
        return args.handler(args, store)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code.

    A failure ends with one line on standard error saying what went wrong and
    what to do, and exit code 2 (130 when interrupted), never a traceback. An
    unexpected error is logged without personal data (:mod:`minqing.errlog`)
    and the line gives its reference.
    """
    args = build_parser().parse_args(argv)
    try:
        return run(args)
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

    try:
        url = getattr(args, "db", None) or database_url()
        return str(sqlite_path(url)) if url.startswith("sqlite:") else shown_url(url)
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
