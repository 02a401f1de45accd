"""``minqing settings``: the store-wide settings (the city's time zone)."""

from __future__ import annotations

SETTINGS = ("timezone",)
"""Settings a store keeps; each is read by every page, export and evaluation."""


def add_settings_commands(sub, open_store) -> None:
    """Add ``settings show`` and ``settings set NAME VALUE`` to the ``minqing`` sub-parsers."""
    p = sub.add_parser("settings", help="show or change the store's settings (the city's time zone)")
    ssub = p.add_subparsers(dest="settings_command", required=True)
    show = ssub.add_parser("show", help="print every setting")
    show.set_defaults(func=lambda args: _show(args, open_store))
    put = ssub.add_parser("set", help="change a setting, e.g. `minqing settings set timezone America/Chicago`")
    put.add_argument("name", choices=SETTINGS)
    put.add_argument("value", help="an IANA time zone name (Asia/Shanghai, America/Chicago, Europe/London, UTC)")
    put.set_defaults(func=lambda args: _set(args, open_store))


def _show(args, open_store) -> int:
    with open_store(args) as store:
        print(f"timezone = {store.timezone}")
    return 0


def _set(args, open_store) -> int:
    from minqing.audit import audit
    from minqing.cli.accounts import cli_actor

    with open_store(args) as store:
        before = store.timezone
        after = store.set_timezone(args.value)
        audit(store, cli_actor(), "settings_change", target=args.name, detail={"from": before, "to": after})
        print(f"timezone = {after} (was {before}); stored times keep their instants, days and months "
              f"are now counted in {after}")
    return 0
