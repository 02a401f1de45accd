"""The ``minqing user add|passwd|disable|enable|list`` and ``minqing audit list|export`` commands: accounts and the audit log.

Passwords are read from a hidden prompt (twice) or one line of standard input
(``--password-stdin``), never from the command line, and never printed.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from minqing.accounts import AccountError
from minqing.cli.common import add_command, cli_actor

__all__ = ["add_commands", "read_password"]


def read_password(from_stdin: bool, prompt: str = "password: ") -> str:
    """Return a new password from one line of standard input, or typed twice at a hidden prompt.

    Raises
    ------
    AccountError
        Empty standard input, or the two typed passwords differ.
    """
    if from_stdin:
        line = sys.stdin.readline()
        password = line.removesuffix("\n")
        password = password.removesuffix("\r")
        if not password:
            raise AccountError("no password on standard input (--password-stdin reads one line)",
                               key="accounts.error_password_stdin")
        return password
    first = getpass.getpass(prompt)
    second = getpass.getpass("again: ")
    if first != second:
        raise AccountError("the two passwords differ; nothing was changed, run the command again",
                           key="accounts.error_password_mismatch")
    return first


def _scope(a) -> str:
    parts = []
    if a.grid_codes:
        parts.append("grid:" + ",".join(a.grid_codes))
    if a.community_codes:
        parts.append("community:" + ",".join(a.community_codes))
    return " ".join(parts) or "all"


def _status(a) -> str:
    if a.disabled:
        return "disabled"
    if a.is_locked():
        return f"locked until {a.locked_until:%Y-%m-%d %H:%M}"
    return "active"


def _when(ts) -> str:
    return "-" if ts is None else f"{ts:%Y-%m-%d %H:%M}"


def cmd_user_add(args, store) -> int:
    from minqing.accounts import add_user

    password = read_password(args.password_stdin, f"password for {args.name}: ")
    a = add_user(store, args.name, args.role, password, grid_codes=args.grid or (),
                 community_codes=args.community or (), actor=cli_actor())
    print(f"added user {a.name} ({a.role}, {_scope(a)})")
    return 0


def cmd_user_passwd(args, store) -> int:
    from minqing.accounts import _require, set_password

    _require(store, args.name)  # say "no such account" before asking for a password
    password = read_password(args.password_stdin, f"new password for {args.name}: ")
    set_password(store, args.name, password, actor=cli_actor())
    print(f"password of {args.name} changed")
    return 0


def cmd_user_disable(args, store) -> int:
    from minqing.accounts import disable_user

    disable_user(store, args.name, actor=cli_actor())
    print(f"user {args.name} disabled")
    return 0


def cmd_user_enable(args, store) -> int:
    from minqing.accounts import enable_user

    enable_user(store, args.name, actor=cli_actor())
    print(f"user {args.name} enabled (any lockout cleared)")
    return 0


def cmd_user_list(args, store) -> int:
    from minqing.accounts import list_users

    print("name\trole\tscope\tstatus\tlast sign-in")
    for a in list_users(store):
        print(f"{a.name}\t{a.role}\t{_scope(a)}\t{_status(a)}\t{_when(a.last_sign_in_at)}")
    return 0


def _cell(v) -> str:
    import pandas as pd

    return "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)


def cmd_audit_list(args, store) -> int:
    from minqing.audit import read_audit

    df = read_audit(store, limit=args.limit, action=args.action, actor=args.actor)
    print("at\tactor\taction\ttarget\trows\tmasked\tdetail")
    for r in df.itertuples():
        print(f"{r.at:%Y-%m-%d %H:%M:%S}\t{_cell(r.actor)}\t{r.action}\t{_cell(r.target)}\t{_cell(r.rows)}\t"
              f"{_cell(r.masked)}\t{_cell(r.detail)}")
    return 0


def cmd_audit_export(args, store) -> int:
    from minqing.audit import audit, read_audit
    from minqing.export.writer import write_table

    df = read_audit(store, limit=None, action=args.action)
    out = df.assign(at=df["at"].dt.strftime("%Y-%m-%d %H:%M:%S%z"))
    path = write_table(out, args.output, fmt=args.format, sheet_name="audit")
    audit(store, cli_actor(), "export", target="audit_log", rows=len(df), masked=True,
          detail={"file": path.name, "format": (args.format or path.suffix.lstrip(".") or "csv").lower()})
    print(f"wrote {len(df):,} audit rows to {path}")
    return 0


def _name_command(usub, name: str, handler, help: str) -> argparse.ArgumentParser:
    """Add the command ``user <name> NAME``; return its parser."""
    p = add_command(usub, name, handler, help=help)
    p.add_argument("name")
    return p


def _password_stdin(p: argparse.ArgumentParser) -> None:
    p.add_argument("--password-stdin", action="store_true", help="read the password from one line of stdin")


def _add_user_commands(sub) -> None:
    from minqing.accounts import ROLES

    p = sub.add_parser("user", help="manage sign-in accounts (账号)")
    usub = p.add_subparsers(dest="user_action", required=True)
    add = _name_command(usub, "add", cmd_user_add,
                        help="add an account; the password is asked for (or read with --password-stdin)")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--grid", action="append", metavar="CODE", help="a grid leader's grid (repeatable)")
    add.add_argument("--community", action="append", metavar="CODE", help="a grid leader's community (repeatable)")
    _password_stdin(add)
    _password_stdin(_name_command(usub, "passwd", cmd_user_passwd, help="set a new password (also clears a lockout)"))
    _name_command(usub, "disable", cmd_user_disable, help="refuse further sign-ins of an account")
    _name_command(usub, "enable", cmd_user_enable, help="allow an account to sign in again (clears a lockout)")
    add_command(usub, "list", cmd_user_list, help="list accounts: name, role, scope, status, last sign-in")


def _add_audit_commands(sub) -> None:
    a = sub.add_parser("audit", help="read or export the audit log (审计日志)")
    asub = a.add_subparsers(dest="audit_action", required=True)
    al = add_command(asub, "list", cmd_audit_list, help="the newest audit rows")
    al.add_argument("--limit", type=int, default=50)
    al.add_argument("--action", help="only this action, e.g. sign_in_failed")
    al.add_argument("--actor", help="only this user")
    ax = add_command(asub, "export", cmd_audit_export, help="write the whole audit log to CSV or XLSX")
    ax.add_argument("-o", "--output", required=True)
    ax.add_argument("--format", choices=("csv", "xlsx"))
    ax.add_argument("--action", help="only this action")


def add_commands(sub) -> None:
    """Add the ``user`` and ``audit`` command groups to the ``minqing`` sub-parsers."""
    _add_user_commands(sub)
    _add_audit_commands(sub)
