"""The demo's accounts: one per role, their passwords shown once and kept beside the store.

:func:`demo_users` creates the missing ones (the grid leader gets the current
grid with the most tickets); :func:`write_demo_users_file` keeps their
passwords in ``demo_users.txt`` beside an SQLite store, readable only by its
owner.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import pandas as pd

from minqing.accounts import add_user, get_account
from minqing.store.base import Store

__all__ = ["DEMO_USERS_FILE", "demo_users", "demo_users_path", "write_demo_users_file"]

DEMO_USERS_FILE = "demo_users.txt"
"""The file beside an SQLite store where :func:`write_demo_users_file` keeps the demo passwords."""

_DEMO_NAMES = (("admin", "admin"), ("planner", "planner"), ("gridleader", "grid_leader"), ("meeting", "meeting"))


def _demo_password(seed: int | None, i: int) -> str:
    if seed is None:
        return secrets.token_urlsafe(9)
    import base64
    import random

    return base64.urlsafe_b64encode(random.Random(f"{seed}:{i}").randbytes(9)).decode("ascii")


def _demo_grid(store: Store) -> str | None:
    """The current grid with the most tickets (ties: the smallest code); None without grids."""
    current = store.read_units(level="grid", at=pd.Timestamp.now(tz=store.timezone).date())
    codes = sorted(set(current["code"].astype(str)))
    if not codes:
        return None
    counts = store.count_tickets("grid")
    counts = counts[counts["code"].astype(str).isin(codes)]
    if counts.empty or int(counts["tickets"].max()) == 0:
        return codes[0]
    counts = counts.assign(code=counts["code"].astype(str)).sort_values(["tickets", "code"], ascending=[False, True])
    return str(counts["code"].iloc[0])


def demo_users(store: Store, seed: int | None = None) -> list[tuple[str, str, str]]:
    """Create the demo's accounts that are missing: one per role (admin, planner, gridleader, meeting).

    The grid leader gets one grid: the current grid with the most tickets. Passwords
    are random (``secrets.token_urlsafe(9)``), or derived from ``seed`` for tests.

    Parameters
    ----------
    store : Store
    seed : int, optional
        Make the passwords reproducible (tests only: a seeded password is no secret).

    Returns
    -------
    list of (name, role, password)
        The accounts created now; empty when they all existed. The only place these
        passwords ever appear: show them once and keep them (:func:`write_demo_users_file`).
    """
    created = []
    for i, (name, role) in enumerate(_DEMO_NAMES):
        if get_account(store, name) is not None:
            continue
        grids = ()
        if role == "grid_leader":
            grid = _demo_grid(store)
            if grid is None:
                continue
            grids = (grid,)
        password = _demo_password(seed, i)
        while len(set(password)) == 1:  # the policy; practically never
            password = _demo_password(None, i)
        add_user(store, name, role, password, grid_codes=grids, actor="demo")
        created.append((name, role, password))
    return created


def demo_users_path(store: Store) -> Path | None:
    """Return the ``demo_users.txt`` beside an SQLite store (None for a store without a file)."""
    path = getattr(store, "path", None)
    return None if path is None else Path(path).with_name(DEMO_USERS_FILE)


def write_demo_users_file(store: Store, created: list[tuple[str, str, str]]) -> Path | None:
    """Write the demo accounts and passwords to :func:`demo_users_path` (mode 0600); return the path.

    Accounts already in the file and not created now keep their line.
    """
    path = demo_users_path(store)
    if path is None or not created:
        return path if path is not None and path.exists() else None
    lines: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#") and "\t" in line:
                lines[line.split("\t", 1)[0]] = line
    for name, role, password in created:
        lines[name] = f"{name}\t{role}\t{password}"
    text = ("# Minqing Map demo users (演示账号): name, role, password. Only for the demo store; "
            "change them (minqing user passwd NAME) or disable them before real use.\n"
            + "".join(line + "\n" for line in lines.values()))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)
    return path
