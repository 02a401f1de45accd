"""What every ``minqing`` command group shares: how a command is registered, how the store is opened, who runs it.

Every command is a handler ``handler(args, store) -> int`` (the exit code),
registered with :func:`add_command`. :func:`minqing.cli.main.main` opens the
store once (:func:`open_cli_store`), runs the handler and closes the store; a
command that needs no store says so (``needs_store=False``) and gets
``store=None``.
"""

from __future__ import annotations

import argparse
import getpass
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from minqing.store.base import Store

__all__ = ["Handler", "add_command", "cli_actor", "open_cli_store", "shown_url"]

Handler = Callable[[argparse.Namespace, "Store | None"], int]
"""A command: the parsed arguments and the open store (``None`` without one) in, the exit code out."""


def add_command(sub, name: str, handler: Handler, *, needs_store: bool = True,
                **kwargs) -> argparse.ArgumentParser:
    """Add the command ``name`` run by ``handler`` to the sub-parsers ``sub``; return its parser.

    Parameters
    ----------
    sub : argparse._SubParsersAction
        The sub-parsers of ``minqing`` or of a command group (``minqing user``).
    name : str
        The command's name on the command line.
    handler : Handler
        ``handler(args, store) -> int``.
    needs_store : bool, default True
        ``False`` for a command that never opens the store: it gets ``store=None``.
    **kwargs
        Passed to ``sub.add_parser`` (``help=...``).
    """
    parser = sub.add_parser(name, **kwargs)
    parser.set_defaults(handler=handler, needs_store=needs_store)
    return parser


def open_cli_store(args) -> Store:
    """Open the store named by ``--db`` (default: ``MINQING_DATABASE_URL`` or the settings)."""
    from minqing.store import open_store

    return open_store(args.db)


def cli_actor() -> str:
    """Who runs a command, for the audit log: ``cli:<login name>`` (``cli`` when unknown)."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "cli"


def shown_url(url: str) -> str:
    """The store URL as printed: any password as ``***``."""
    from minqing.privacy import redact_url

    return redact_url(url)
