"""``minqing copy SRC_URL DST_URL``: copy a whole store into an empty one and verify the copy.

Any pair of backends (SQLite to PostGIS and back, SQLite to SQLite): everything goes
through the store API (:mod:`minqing.store.copy`), holding both stores' import locks
so no import changes either side meanwhile. The destination must be empty;
a non-empty one is refused and left as it was. Progress goes to standard error; the
table of row counts and checks (OK / MISMATCH) to standard output. Exit code 0 when
every table matches, 1 on a mismatch, 2 on an error (URLs are printed with any
password as ``***``).
"""

from __future__ import annotations

import sys
import time

from minqing.cli.common import add_command, shown_url

__all__ = ["add_commands", "cmd_copy"]


def add_commands(sub) -> None:
    """Add ``copy`` to the ``minqing`` sub-parsers."""
    p = add_command(sub, "copy", cmd_copy, needs_store=False,
                    help="copy a whole store (tickets, units, places, imports, interventions, accounts, audit log) "
                         "into a new, empty store and verify it; a non-empty destination is refused",
                    description="Copy every table of SRC_URL into DST_URL (sqlite:///... or postgresql://...) "
                                "through the store API, then compare row counts and checksums table by table. "
                                "DST_URL must be an empty store (a new file or database); a non-empty one is "
                                "refused and left untouched. Exit code 1 when a table does not match.")
    p.add_argument("source", metavar="SRC_URL", help="the store to copy (read only)")
    p.add_argument("dest", metavar="DST_URL", help="the empty store to copy into (created and migrated if new)")
    p.add_argument("--chunk", type=int, default=None, metavar="N",
                   help="tickets and log rows per read and write (default 50000)")
    p.add_argument("--no-verify", action="store_true", help="skip the verification after the copy")


def _progress(text: str) -> None:
    print(f"  {text}", file=sys.stderr, flush=True)


def cmd_copy(args, store) -> int:
    """Copy ``args.source`` into ``args.dest``, verify, print the table; return 0, or 1 on a mismatch."""
    from minqing.store import open_store
    from minqing.store.copy import CHUNK, check_empty, copy_store, verify_copy

    chunk = args.chunk or CHUNK
    if chunk < 1:
        from minqing.errors import ConfigError

        raise ConfigError(f"--chunk must be at least 1, not {chunk}", key="error.generic", message="--chunk")
    print(f"copy: {shown_url(args.source)} -> {shown_url(args.dest)}")
    started = time.monotonic()
    with open_store(args.source) as source, open_store(args.dest) as dest:
        check_empty(dest)  # before the locks: the same store twice is refused, not waited for
        with source.import_lock("minqing copy (source)", on_wait=_waiting), \
                dest.import_lock("minqing copy (destination)", on_wait=_waiting):
            counts = copy_store(source, dest, chunk=chunk, progress=_progress)
            checks = None if args.no_verify else verify_copy(source, dest, chunk=chunk, progress=_progress)
    return _report(counts, checks, started)


def _waiting(who: str) -> None:
    _progress(f"waiting for an import to finish: {who}")


def _report(counts: dict, checks, started: float) -> int:
    """Print what was copied and the checks; return the exit code."""
    from minqing.store.copy import format_checks

    seconds = time.monotonic() - started
    print(f"copied {counts['tickets']:,} tickets")
    if checks is None:
        print("\n".join(f"{name:<22} {n:>12,}" for name, n in counts.items()))
        print(f"copied in {seconds:.1f} s (not verified)")
        return 0
    print(format_checks(checks))
    bad = [c.table for c in checks if not c.ok]
    print(f"copied and verified in {seconds:.1f} s: "
          + (f"MISMATCH in {', '.join(bad)}" if bad else "every table matches"))
    return 1 if bad else 0
