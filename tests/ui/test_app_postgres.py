"""The app on PostgreSQL + PostGIS as a deployment runs it: signed in to the server as the app role.

A small demo built into PostGIS (the ``pg_demo`` fixture); every role signs in and opens
every page it may; a grid leader's ticket list holds its own grid only; a server that is
down at start is a message on the page and one line from the command line.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pandas as pd
import pytest
from conftest import PASSWORD, ROLE_USERS, sign_in
from streamlit.testing.v1 import AppTest

from minqing.auth import User
from minqing.i18n import t
from minqing.store import TicketFilter, open_store
from minqing.ui.nav import allowed_pages

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")


@pytest.fixture(scope="module")
def pg_app(pg_demo):
    """``(app URL, role -> account name, the grid leader's grid)``: one account per role in the PostGIS demo."""
    from minqing.accounts import add_user

    _, app_url, _ = pg_demo
    with open_store(app_url) as store:
        grid = store.read_tickets(TicketFilter(columns=("grid_code",)))["grid_code"].value_counts().index[0]
        for role, name in ROLE_USERS.items():
            add_user(store, name, role, PASSWORD, grid_codes=(grid,) if role == "grid_leader" else (), actor="tests")
    return app_url, ROLE_USERS, grid


@pytest.fixture
def app_on(monkeypatch):
    """Return ``open(url, name)``: the app against store ``url``, signed in as account ``name`` (or nobody)."""
    from minqing.ui.cache import data

    def open_(url: str, name: str | None = None) -> AppTest:
        monkeypatch.setenv("MINQING_DATABASE_URL", url)
        data.get_store.clear()
        at = AppTest.from_file(APP, default_timeout=90)
        return sign_in(at, name) if name else at

    yield open_
    data.get_store.clear()  # close nothing another test's cache holds open


def _user(role: str, grid: str) -> User:
    return User(role, (grid,), name=role) if role == "grid_leader" else User(role, name=role)


@pytest.mark.parametrize("role", ["admin", "planner", "grid_leader", "meeting"])
def test_every_page_a_role_sees_renders_on_postgres(pg_app, app_on, role):
    url, names, grid = pg_app
    at = app_on(url, names[role]).run()
    assert not at.exception, at.exception
    assert at.session_state["user"].role == role
    for view, _, _ in allowed_pages(_user(role, grid)):
        at.switch_page(str(ROOT / "views" / f"{view}.py"))
        at.run()
        assert not at.exception, (role, view, at.exception)
        assert at.title, (role, view)
        assert not at.error, (role, view, [e.value for e in at.error])


def test_a_grid_leaders_ticket_list_holds_only_its_grid(pg_app, app_on):
    url, names, grid = pg_app
    at = app_on(url, names["grid_leader"]).run()
    at.switch_page(str(ROOT / "views" / "tickets.py"))
    at.run()
    assert not at.exception
    tables = [d.value for d in at.dataframe if isinstance(d.value, pd.DataFrame)]
    column = t("tickets.col_grid", "zh")
    listed = [v for v in tables if column in v.columns]
    assert listed and len(listed[0]) > 0
    for table in listed:
        assert set(table[column].dropna()) == {grid}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def down_url():
    """A PostgreSQL URL (with a password) where no server listens."""
    return f"postgresql://minqing_app:s3cret-pw@127.0.0.1:{_closed_port()}/minqing"


def test_a_server_down_at_start_is_a_message_on_the_page(app_on, down_url):
    at = app_on(down_url).run()
    assert not at.exception, at.exception
    shown = " ".join(e.value for e in at.error)
    assert "无法连接 PostgreSQL 数据库" in shown and "s3cret-pw" not in shown and "Traceback" not in shown
    at.sidebar.radio(key="lang_switch").set_value("en").run()
    assert not at.exception
    shown = " ".join(e.value for e in at.error)
    assert "Cannot reach the PostgreSQL store" in shown and "s3cret-pw" not in shown


def test_a_server_down_is_one_line_from_the_command_line(down_url, capsys):
    from minqing.cli.main import main

    code = main(["--db", down_url, "user", "list"])
    out = capsys.readouterr()
    lines = [line for line in (out.err + out.out).splitlines() if line.strip()]
    assert code != 0 and len(lines) == 1, lines
    assert "PostgreSQL" in lines[0] and "s3cret-pw" not in lines[0] and "Traceback" not in lines[0]
