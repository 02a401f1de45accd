"""The ``minqing mapping init FILE`` command: write a starting mapping file for an export (no store needed)."""

from __future__ import annotations

from pathlib import Path

from minqing.cli.common import add_command
from minqing.ingest.errors import MappingError
from minqing.ingest.mapping_init import MAX_ROWS, mapping_template

__all__ = ["add_commands"]


def cmd_mapping(args, store) -> int:
    """``minqing mapping init FILE [-o OUT]``."""
    text = mapping_template(args.file, sheet=args.sheet, max_rows=args.rows)
    if args.output:
        out = Path(args.output)
        if out.exists() and not args.force:
            raise MappingError(f"{out} exists; pass --force to overwrite it or choose another -o file",
                               key="ingest.error_mapping_exists", path=str(out))
        out.write_text(text, encoding="utf-8")
        print(f"wrote {out}")
    else:
        print(text, end="")
    return 0


def add_commands(sub) -> None:
    """Add ``mapping init`` to the ``minqing`` sub-parsers."""
    m = sub.add_parser("mapping", help="write a starting mapping file for an export")
    m_sub = m.add_subparsers(dest="mapping_action", required=True)
    mi = add_command(m_sub, "init", cmd_mapping, needs_store=False,
                     help="infer columns and list the most frequent values of an export as TOML")
    mi.add_argument("file")
    mi.add_argument("-o", "--output", help="write to this file (default: print)")
    mi.add_argument("--force", action="store_true", help="overwrite the -o file")
    mi.add_argument("--sheet", help="XLSX sheet name (default: the first)")
    mi.add_argument("--rows", type=int, default=MAX_ROWS, help=f"rows read to count values (default {MAX_ROWS:,})")
