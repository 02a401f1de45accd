"""``minqing settings``: the store-wide settings (the city's time zone)."""

from __future__ import annotations

from minqing.cli.common import add_command, cli_actor

__all__ = ["SETTINGS", "add_commands"]

SETTINGS = ("timezone",)
"""Settings a store keeps; each is read by every page, export and evaluation."""


def add_commands(sub) -> None:
    """Add ``settings show`` and ``settings set NAME VALUE`` to the ``minqing`` sub-parsers."""
    p = sub.add_parser("settings", help="show or change the store's settings (the city's time zone)")
    ssub = p.add_subparsers(dest="settings_command", required=True)
    add_command(ssub, "show", cmd_show, help="print every setting")
    put = add_command(ssub, "set", cmd_set,
                      help="change a setting, e.g. `minqing settings set timezone America/Chicago`")
    put.add_argument("name", choices=SETTINGS)
    put.add_argument("value", help="an IANA time zone name (Asia/Shanghai, America/Chicago, Europe/London, UTC)")


def cmd_show(args, store) -> int:
    """Print every setting."""
    print(f"timezone = {store.timezone}")
    return 0


def cmd_set(args, store) -> int:
    """Change a setting and record the change in the audit log."""
    from minqing.audit import audit

    before = store.timezone
    after = store.set_timezone(args.value)
    audit(store, cli_actor(), "settings_change", target=args.name, detail={"from": before, "to": after})
    print(f"timezone = {after} (was {before}); stored times keep their instants, days and months "
          f"are now counted in {after}")
    return 0
