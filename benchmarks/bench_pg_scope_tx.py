"""The cost per read of the PostgreSQL store's scoped transaction, for docs/scaling.md.

Every read of :class:`~minqing.store.postgres.store.PostgresStore` is one transaction that
first sets its grid scope (``BEGIN``, ``set_config('minqing.scope_grids', ...)``, the read,
``COMMIT``) so the row-level policies can apply; before, a read was one autocommit statement.
This times a one-row read (``SELECT value FROM meta WHERE key = ...``) through the store's
pool, as the app role, three ways: autocommit (the old read), the store's ``_read`` (the
transaction), and the ``BEGIN`` and the scope sent in one pipelined round trip.

Starts its own throwaway cluster (tests/pg_server.py). Run (about 30 s):
    PYTHONPATH=src .venv/bin/python benchmarks/bench_pg_scope_tx.py [--reads 3000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import pg_server  # the tests' throwaway server

from minqing.store import open_store
from minqing.store.postgres.migrate import Roles, migrate
from minqing.store.postgres.scope import set_scope

PASSWORD = "bench"


def _median_us(ctx, reads: int) -> float:
    times = []
    for _ in range(reads):
        t0 = time.perf_counter()
        with ctx() as con:
            con.execute("SELECT value FROM meta WHERE key = %s", ("data_version",)).fetchall()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=3000)
    args = parser.parse_args()
    server = pg_server.start_server()
    try:
        url = server.create_database("bench_scope")
        migrate(url)
        roles = Roles.for_database("bench_scope")
        with psycopg.connect(url, autocommit=True) as con:
            con.execute(sql.SQL("ALTER ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(roles.app), sql.Literal(PASSWORD)))
        scheme, rest = url.split("://", 1)
        store = open_store(f"{scheme}://{roles.app}:{PASSWORD}@{rest.split('@', 1)[1]}")

        @contextmanager
        def autocommit():
            with store._pool.connection() as con:
                yield con

        @contextmanager
        def pipelined():
            with store._pool.connection() as con:
                with con.pipeline():
                    con.execute("BEGIN")
                    set_scope(con, None)
                yield con
                con.execute("COMMIT")

        ways = {"autocommit (before)": autocommit, "store._read (transaction + set_scope)": store._read,
                "BEGIN + set_scope pipelined": pipelined}
        figures = {name: [] for name in ways}
        for _ in range(3):  # interleaved, so a busy spell of the machine hits every way
            for name, ctx in ways.items():
                figures[name].append(_median_us(ctx, args.reads))
        print("| read of one row, app role, through the pool | median of medians |")
        print("|---|---|")
        for name, values in figures.items():
            print(f"| {name} | {statistics.median(values):.0f} µs |")
        store.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
