"""Shared fixtures: a tiny hand-made city whose answers are known."""

from __future__ import annotations

import os
import time

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

# The app's cache warmer reads the store in a background thread: not in tests, whose stores come and go
os.environ.setdefault("MINQING_WARM_CACHES", "0")

# Tiny city near Yangpu: 0.01 degree squares (~950 m x 1110 m).
X0, Y0 = 121.50, 31.28


def sq(i, j, size=0.01):
    return box(X0 + i * size, Y0 + j * size, X0 + (i + 1) * size, Y0 + (j + 1) * size)


@pytest.fixture
def tiny_units() -> gpd.GeoDataFrame:
    """One district, one sub-district, two communities, four grids; grid G4 is
    split into G4A / G4B on 2025-07-01 (a boundary version change)."""
    rows = [
        ("D", "district", None, box(X0, Y0, X0 + 0.02, Y0 + 0.02), "2020-01-01", None),
        ("S", "subdistrict", "D", box(X0, Y0, X0 + 0.02, Y0 + 0.02), "2020-01-01", None),
        ("C1", "community", "S", box(X0, Y0, X0 + 0.01, Y0 + 0.02), "2020-01-01", None),
        ("C2", "community", "S", box(X0 + 0.01, Y0, X0 + 0.02, Y0 + 0.02), "2020-01-01", None),
        ("G1", "grid", "C1", sq(0, 0), "2020-01-01", None),
        ("G2", "grid", "C1", sq(0, 1), "2020-01-01", None),
        ("G3", "grid", "C2", sq(1, 0), "2020-01-01", None),
        ("G4", "grid", "C2", sq(1, 1), "2020-01-01", "2025-07-01"),
        ("G4A", "grid", "C2", box(X0 + 0.01, Y0 + 0.01, X0 + 0.015, Y0 + 0.02), "2025-07-01", None),
        ("G4B", "grid", "C2", box(X0 + 0.015, Y0 + 0.01, X0 + 0.02, Y0 + 0.02), "2025-07-01", None),
    ]
    df = pd.DataFrame(rows, columns=["code", "level", "parent_code", "geometry", "valid_from", "valid_to"])
    df["name"] = "单元" + df["code"]
    df["name_en"] = "Unit " + df["code"]
    df["population"] = 1000
    df["caveat"] = None
    df["unit_uid"] = range(1, len(df) + 1)
    return gpd.GeoDataFrame(df, geometry="geometry", crs=4326)


@pytest.fixture
def tiny_places() -> gpd.GeoDataFrame:
    """A hospital entrance (80 m radius), a road stretch (25 m buffer), a compound."""
    rows = [
        ("H1", "hospital_entrance", "测试医院门口", Point(X0 + 0.005, Y0 + 0.005), 80.0, None),
        ("R1", "road_stretch", "测试路段", LineString([(X0 + 0.011, Y0 + 0.005), (X0 + 0.019, Y0 + 0.005)]), None, 25.0),
        ("P1", "compound", "测试小区", box(X0 + 0.002, Y0 + 0.012, X0 + 0.004, Y0 + 0.014), None, None),
    ]
    df = pd.DataFrame(rows, columns=["place_id", "kind", "name", "geometry", "radius_m", "buffer_m"])
    df["name_en"] = df["place_id"]
    df["aliases"] = df["name"]
    df["subdistrict_code"] = "S"
    df["source"] = "test"
    df["synthetic"] = True
    return gpd.GeoDataFrame(df, geometry="geometry", crs=4326)


def make_tickets(points, times) -> pd.DataFrame:
    """Tickets at (lon, lat) points received at local times."""
    n = len(points)
    return pd.DataFrame(
        {
            "source_id": [f"T{i:04d}" for i in range(n)],
            "received_at": pd.to_datetime(times).tz_localize("Asia/Shanghai"),
            "channel": "hotline_12345",
            "kind": "complaint",
            "category": "02.01.01",
            "text": "测试",
            "address": "测试路1号",
            "lon": [p[0] for p in points],
            "lat": [p[1] for p in points],
            "location_source": ["coordinates" if p[0] == p[0] else "none" for p in points],
        }
    )


@pytest.fixture
def city_store(tmp_path, tiny_units, tiny_places):
    """An empty store of the tiny city: its units and places, no tickets."""
    from minqing.store import open_store

    s = open_store(f"sqlite:///{tmp_path / 'city.sqlite'}")
    s.write_units(tiny_units.drop(columns="unit_uid"))
    s.write_places(tiny_places)
    yield s
    s.close()


@pytest.fixture
def store(city_store):
    """The tiny city's store (a test module may define its own ``store``)."""
    return city_store


DEMO_TEST_TICKETS = 30_000


@pytest.fixture(scope="session")
def demo_store_url(tmp_path_factory):
    """A demo store built once per test session (smaller than the real demo to keep CI fast)."""
    from minqing.demo.build import build_demo
    from minqing.store import open_store

    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    url = f"sqlite:///{path}"
    with open_store(url) as store:
        build_demo(store, n_tickets=DEMO_TEST_TICKETS)
    return url


# --------------------------------------------------------------------------
# Accounts (sign-in): one per role in the shared demo store, and signing an AppTest in.
# Signing in sets the session's account name as the sign-in form does after a successful
# signin.authenticate; who that is (role, scope) is still read from the store on every run.
# The form itself is tested in tests/ui/test_signin.py and in the browser.
# --------------------------------------------------------------------------

PASSWORD = "correct-horse-battery-staple"
ROLE_USERS = {"admin": "t_admin", "planner": "t_planner", "grid_leader": "t_leader", "meeting": "t_meeting"}


def busiest_grid(url: str) -> str:
    """A grid with recent tickets, so a grid leader's lists are not empty."""
    from minqing.store import open_store

    with open_store(url) as store:
        recent = store.read_tickets()
    recent = recent[recent["received_at"] >= recent["received_at"].max() - pd.Timedelta(days=30)]
    return recent["grid_code"].value_counts().index[0]


@pytest.fixture(scope="session")
def ui_accounts(demo_store_url):
    """Create the test accounts once per session; return role -> (name, scope grid or None)."""
    from minqing.accounts import add_user, get_account
    from minqing.store import open_store

    grid = busiest_grid(demo_store_url)
    with open_store(demo_store_url) as store:
        for role, name in ROLE_USERS.items():
            if get_account(store, name) is None:
                add_user(store, name, role, PASSWORD, grid_codes=(grid,) if role == "grid_leader" else (),
                         actor="tests")
    return {role: (name, grid if role == "grid_leader" else None) for role, name in ROLE_USERS.items()}


def sign_in(at, name: str):
    """Put ``at``'s session in the signed-in state of account ``name``; return ``at``."""
    now = time.time()
    at.session_state["auth"] = {"name": name, "signed_in_at": now, "last_seen": now}
    return at


# --------------------------------------------------------------------------
# PostgreSQL + PostGIS: a throwaway server started by the test session itself (tests/pg_server.py).
# Where none can run, the tests that use it skip with the reason, and the summary's last lines say so.
# --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_cluster():
    """The session's throwaway PostgreSQL + PostGIS server (a :class:`pg_server.PgServer`)."""
    import pg_server

    yield from pg_server.session_server()


@pytest.fixture(scope="session")
def pg_url(pg_cluster) -> str:
    """The superuser's URL of a database with PostGIS in the session's throwaway server."""
    return pg_cluster.url()


@pytest.fixture
def pg_fresh_url(pg_cluster):
    """The superuser's URL of a new database with PostGIS and no schema yet, dropped after the test."""
    import uuid

    name = f"t_{uuid.uuid4().hex[:12]}"
    url = pg_cluster.create_database(name)
    yield url
    pg_cluster.drop_database(name)


PG_APP_PASSWORD = "app-s3cret"
PG_DEMO_TICKETS = 10_000  # the demo's least


def pg_login_url(url: str, role: str, password: str = PG_APP_PASSWORD) -> str:
    """``url`` (the superuser's, no password) signed in as ``role``."""
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{role}:{password}@{rest.split('@', 1)[1]}"


@pytest.fixture(scope="session")
def pg_demo(pg_cluster):
    """A small demo built into a PostGIS database as a deployment has it, once per session.

    ``minqing migrate`` as the superuser (the roles, the owner's schema), the app role given
    a login, the demo built through the app role. Returns ``(superuser URL, app URL, roles)``.
    """
    import uuid

    import psycopg
    from psycopg import sql

    from minqing.demo.build import build_demo
    from minqing.store import open_store
    from minqing.store.postgres.migrate import Roles, migrate

    name = f"t_demo_{uuid.uuid4().hex[:8]}"
    url = pg_cluster.create_database(name)
    migrate(url)
    roles = Roles.for_database(name)
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(
            sql.Identifier(roles.app), sql.Literal(PG_APP_PASSWORD)))
    app_url = pg_login_url(url, roles.app)
    with open_store(app_url) as store:
        build_demo(store, n_tickets=PG_DEMO_TICKETS)
    yield url, app_url, roles
    pg_cluster.drop_database(name)


def pytest_terminal_summary(terminalreporter):
    """Say whether the PostGIS tests ran (and on what), or why not."""
    import pg_server

    line, markup = pg_server.summary_line()
    terminalreporter.write_line(line, **markup)
