"""Raw-SQL figures of one PostgreSQL + PostGIS server, for docs/scaling.md: bulk load, indexes, dashboard-style queries.

Starts its own throwaway cluster (tests/pg_server.py), migrates a database to the
store's schema (row-level security included), generates N tickets with
``generate_series`` (received_at over three years, ~360 grids with a skewed load,
40 categories, four channels, realistic widths), builds the indexes and times:

* the bulk insert (indexes dropped, as a first load) and the index build;
* ``COPY`` of 100,000 rows into an unlogged staging table and their merge into the
  indexed ``tickets`` table (the import path), and one month's rollup refresh;
* month x grid counts, month x category counts for one grid, a KPI aggregate per
  sub-district over a quarter: on the raw tickets and on two monthly rollups (month x
  grid x category, month x grid);
* the cost of row-level security: the app role unscoped and scoped to one grid.

Run (about two minutes at 1,000,000 rows on 2 cores):
    PYTHONPATH=src .venv/bin/python benchmarks/bench_pg_sql.py --rows 1000000 [--try-10m]
``--try-10m`` then also runs 10,000,000 rows when the 1M run projects to under five
minutes. Prints one JSON line per figure and a Markdown table at the end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import pg_server  # the tests' throwaway server

from minqing.store.postgres.migrate import Roles, migrate
from minqing.store.postgres.scope import set_scope

TZ = "Asia/Shanghai"
TUNING = {"shared_buffers": "1GB", "work_mem": "64MB", "maintenance_work_mem": "512MB",
          "max_wal_size": "4GB", "effective_cache_size": "8GB", "random_page_cost": "1.1"}
"""A modest one-server tuning (the tests' server runs with 64 MB of shared buffers)."""

GENERATE = """
INSERT INTO tickets (source_id, received_at, channel, kind, category, text, address, lon, lat, location_source,
    grid_code, community_code, subdistrict_code, district_code, h3_cell, handling_unit, due_at, dispatched_at,
    responded_at, closed_at, status, resolved, satisfaction, caller_name, caller_phone)
SELECT 'S' || (%(offset)s + i), t, ch, kd, cat, '市民反映' || cat || '问题，地点附近，请尽快处理。编号' || i,
    '测试区测试路' || (i %% 997) || '号', lon, lat, CASE WHEN lon IS NULL THEN 'none' ELSE 'coordinates' END,
    'G' || lpad(g::text, 3, '0'), 'C' || lpad((g / 6)::text, 2, '0'), 'S' || lpad((g / 36)::text, 2, '0'), 'D01',
    613000000000000000 + (g * 64 + (i %% 64)), 'U' || (g / 36), t + interval '3 days', t + interval '1 hour',
    t + r1 * interval '72 hours', t + r1 * interval '96 hours', 'closed',
    (ARRAY['solved', 'solved', 'solved', 'partly', 'not'])[1 + (i %% 5)],
    (ARRAY['satisfied', 'satisfied', 'basically', 'unsatisfied'])[1 + (i %% 4)], '张先生', '138' || lpad((i %% 100000000)::text, 8, '0')
FROM (
    SELECT i, r1,
        timestamptz '2023-01-01 00:00+08' + (random() * 1095.0) * interval '1 day' AS t,
        (ARRAY['hotline_12345', 'hotline_12345', 'hotline_12345', 'web', 'app', 'wechat'])[1 + (i %% 6)] AS ch,
        (ARRAY['complaint', 'complaint', 'request', 'consultation'])[1 + (i %% 4)] AS kd,
        lpad((1 + c / 4)::text, 2, '0') || '.' || lpad((1 + c %% 4)::text, 2, '0') AS cat,
        CASE WHEN random() < 0.05 THEN NULL ELSE 121.45 + random() * 0.1 END AS lon,
        31.25 + random() * 0.07 AS lat,
        floor(360 * power(random(), 1.6))::int AS g
    FROM (SELECT i, random() AS r1, floor(40 * power(random(), 2))::int AS c
          FROM generate_series(1, %(n)s) AS i) AS base
) AS s
"""
"""N tickets: grids skewed (G000 busiest), categories skewed (01.01 commonest), 5 % without coordinates."""

MEASURES = ("n bigint NOT NULL, n_on_time bigint NOT NULL, n_responded bigint NOT NULL, "
            "response_s double precision NOT NULL, n_satisfied bigint NOT NULL")
ROLLUP = f"""
CREATE TABLE rollup_grid_category (month date NOT NULL, grid_code text NOT NULL, category text NOT NULL,
    subdistrict_code text NOT NULL, {MEASURES}, PRIMARY KEY (month, grid_code, category));
CREATE INDEX rollup_grid_category_grid ON rollup_grid_category (grid_code, month);
CREATE TABLE rollup_grid (month date NOT NULL, grid_code text NOT NULL, subdistrict_code text NOT NULL,
    {MEASURES}, PRIMARY KEY (month, grid_code));
"""
"""Two monthly rollups: month x grid x category (a grid's categories) and month x grid (district views, KPIs)."""
SUMS = "sum(n), sum(n_on_time), sum(n_responded), sum(response_s), sum(n_satisfied)"
ROLLUP_FILL = f"""
INSERT INTO rollup_grid_category
SELECT date_trunc('month', received_at AT TIME ZONE '{TZ}')::date, coalesce(grid_code, ''), category,
    min(coalesce(subdistrict_code, '')), count(*), count(*) FILTER (WHERE closed_at <= due_at), count(responded_at),
    coalesce(sum(extract(epoch FROM responded_at - received_at)), 0), count(*) FILTER (WHERE satisfaction = 'satisfied')
FROM tickets {{where}} GROUP BY 1, 2, 3;
INSERT INTO rollup_grid SELECT month, grid_code, min(subdistrict_code), {SUMS}
FROM rollup_grid_category {{where_month}} GROUP BY 1, 2
"""
MONTH = f"date_trunc('month', received_at AT TIME ZONE '{TZ}')"
KPI_RAW = ("SELECT subdistrict_code, count(*), avg((closed_at <= due_at)::int), "
           "avg(extract(epoch FROM responded_at - received_at)), avg((satisfaction = 'satisfied')::int) FROM tickets "
           "WHERE received_at >= timestamptz '2025-07-01 00:00+08' AND received_at < timestamptz '2025-10-01 00:00+08' "
           "GROUP BY 1")
KPI_ROLLUP = ("SELECT subdistrict_code, sum(n), sum(n_on_time)::float / sum(n), sum(response_s) / sum(n_responded), "
              "sum(n_satisfied)::float / sum(n) FROM {table} "
              "WHERE month >= date '2025-07-01' AND month < date '2025-10-01' GROUP BY 1")
QUERIES = {
    "month x grid, 3 years": {
        "raw": f"SELECT {MONTH} AS m, grid_code, count(*) FROM tickets GROUP BY 1, 2",
        "rollup month x grid x category": "SELECT month, grid_code, sum(n) FROM rollup_grid_category GROUP BY 1, 2",
        "rollup month x grid": "SELECT month, grid_code, n FROM rollup_grid"},
    "month x grid, last 12 months": {
        "raw": f"SELECT {MONTH} AS m, grid_code, count(*) FROM tickets "
               "WHERE received_at >= timestamptz '2025-01-01 00:00+08' GROUP BY 1, 2",
        "rollup month x grid x category": "SELECT month, grid_code, sum(n) FROM rollup_grid_category "
                                          "WHERE month >= date '2025-01-01' GROUP BY 1, 2",
        "rollup month x grid": "SELECT month, grid_code, n FROM rollup_grid WHERE month >= date '2025-01-01'"},
    "month x category, one grid": {
        "raw": f"SELECT {MONTH} AS m, category, count(*) FROM tickets WHERE grid_code = 'G100' GROUP BY 1, 2",
        "rollup month x grid x category": "SELECT month, category, n FROM rollup_grid_category "
                                          "WHERE grid_code = 'G100'"},
    "KPI per sub-district, one quarter": {
        "raw": KPI_RAW,
        "rollup month x grid x category": KPI_ROLLUP.format(table="rollup_grid_category"),
        "rollup month x grid": KPI_ROLLUP.format(table="rollup_grid")},
}
"""name -> {source: SQL}: the same answer from the raw tickets and from the rollups."""

INDEXES = [  # 001_init.sql and 003's, rebuilt after the bulk load
    "CREATE UNIQUE INDEX tickets_source_id ON tickets (source_id)",
    "CREATE INDEX tickets_received ON tickets (received_at)",
    "CREATE INDEX tickets_subdistrict ON tickets (subdistrict_code, received_at)",
    "CREATE INDEX tickets_community ON tickets (community_code, received_at)",
    "CREATE INDEX tickets_grid ON tickets (grid_code, received_at)",
    "CREATE INDEX tickets_cell ON tickets (h3_cell)",
    "CREATE INDEX tickets_geom ON tickets USING gist (geom)",
    "CREATE INDEX tickets_category_received ON tickets (category, received_at)",
]
RESULTS: list[dict] = []


def emit(rows: int, name: str, seconds: float, **extra) -> None:
    rec = {"rows": rows, "figure": name, "seconds": round(seconds, 4), **extra}
    RESULTS.append(rec)
    print(json.dumps(rec, ensure_ascii=False), flush=True)


def timed(con, statement, params=None) -> float:
    t0 = time.perf_counter()
    con.execute(statement, params)
    return time.perf_counter() - t0


def median_ms(con, query: str, repeat: int = 5) -> tuple[float, float]:
    """Median and max of ``repeat`` warm runs (one untimed run first), in milliseconds."""
    con.execute(query).fetchall()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        con.execute(query).fetchall()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), max(times)


def start() -> pg_server.PgServer:
    server = pg_server.start_server()
    with psycopg.connect(server.url("postgres"), autocommit=True) as con:
        for key, value in TUNING.items():
            con.execute(sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(key), sql.Literal(value)))
    server._tool("pg_ctl", "-D", str(server.data_dir), "-l", str(server.log_file), "-w", "-t", "60",
                 "-o", f"-p {server.port}", "restart")
    return server


def load(url: str, n: int) -> None:
    """Generate ``n`` tickets into the migrated schema (indexes dropped first, then rebuilt)."""
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("ALTER TABLE ticket_places DROP CONSTRAINT ticket_places_source_id_fkey")  # needs source_id's index
        for stmt in INDEXES:
            con.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(stmt.split(" ON ")[0].split()[-1])))
        secs = 0.0
        for offset in range(0, n, 1_000_000):  # batches keep the generator's memory flat
            secs += timed(con, GENERATE, {"offset": offset, "n": min(1_000_000, n - offset)})
        emit(n, "bulk insert (INSERT ... SELECT generate_series, no secondary index)", secs, rows_per_s=round(n / secs))
        t0 = time.perf_counter()
        for stmt in INDEXES:
            con.execute(stmt)
        con.execute("ALTER TABLE ticket_places ADD CONSTRAINT ticket_places_source_id_fkey FOREIGN KEY (source_id) "
                    "REFERENCES tickets (source_id) ON DELETE CASCADE")
        emit(n, "build the 8 ticket indexes", time.perf_counter() - t0)
        emit(n, "VACUUM ANALYZE tickets", timed(con, "VACUUM ANALYZE tickets"))
        size = con.execute("SELECT pg_total_relation_size('tickets'), pg_relation_size('tickets')").fetchone()
        emit(n, "size", 0.0, total_mb=round(size[0] / 2**20), heap_mb=round(size[1] / 2**20))


def import_path(url: str, n: int, batch: int = 100_000) -> None:
    """COPY ``batch`` rows into an unlogged stage, merge them into the indexed table, remove them again."""
    cols = ("source_id, received_at, channel, kind, category, text, address, lon, lat, location_source, grid_code, "
            "community_code, subdistrict_code, district_code, h3_cell, due_at, responded_at, closed_at, satisfaction")
    with psycopg.connect(url) as con:
        buf = bytearray()
        with con.cursor().copy(f"COPY (SELECT 'X' || source_id, {cols.split(', ', 1)[1]} FROM tickets "
                               f"LIMIT {batch}) TO STDOUT (FORMAT binary)") as copy:
            for chunk in copy:
                buf += chunk
        con.execute(f"CREATE UNLOGGED TABLE stage AS SELECT {cols} FROM tickets LIMIT 0")
        t0 = time.perf_counter()
        with con.cursor().copy(f"COPY stage ({cols}) FROM STDIN (FORMAT binary)") as copy:
            copy.write(bytes(buf))
        emit(n, f"COPY {batch:,} rows into an unlogged stage", time.perf_counter() - t0,
             rows_per_s=round(batch / (time.perf_counter() - t0)))
        secs = timed(con, f"INSERT INTO tickets ({cols}) SELECT {cols} FROM stage")
        con.commit()
        emit(n, f"merge {batch:,} staged rows into the indexed tickets table (commit incl.)", secs,
             rows_per_s=round(batch / secs))
        con.execute("DELETE FROM tickets WHERE source_id LIKE 'X%'")
        con.execute("DROP TABLE stage")
        con.commit()
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("VACUUM ANALYZE tickets")


def queries(url: str, n: int, roles: Roles) -> None:
    """The dashboard-style queries on raw tickets and on the rollup, as the owner and as the app role."""
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(ROLLUP)
        emit(n, "build both monthly rollups (full)", timed(con, ROLLUP_FILL.format(where="", where_month="")),
             rollup_rows=con.execute("SELECT count(*) FROM rollup_grid_category").fetchone()[0],
             coarse_rows=con.execute("SELECT count(*) FROM rollup_grid").fetchone()[0])
        con.execute("VACUUM ANALYZE rollup_grid_category")
        con.execute("VACUUM ANALYZE rollup_grid")
        with con.transaction():
            refresh = timed(con, "DELETE FROM rollup_grid_category WHERE month = date '2025-06-01'; "
                                 "DELETE FROM rollup_grid WHERE month = date '2025-06-01'")
            refresh += timed(con, ROLLUP_FILL.format(
                where="WHERE received_at >= timestamptz '2025-06-01 00:00+08' "
                      "AND received_at < timestamptz '2025-07-01 00:00+08'",
                where_month="WHERE month = date '2025-06-01'"))
        emit(n, "refresh one month of both rollups (delete + insert)", refresh)
        for name, sources in QUERIES.items():
            for kind, query in sources.items():
                med, worst = median_ms(con, query)
                emit(n, f"{name} [{kind}]", med / 1000, median_ms=round(med, 1), max_ms=round(worst, 1))
        con.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(roles.app)))
        raw_all, raw_grid = QUERIES["month x grid, last 12 months"]["raw"], QUERIES["month x category, one grid"]["raw"]
        med, _ = median_ms(con, raw_all)
        emit(n, "month x grid, last 12 months [raw, app role, unscoped RLS]", med / 1000, median_ms=round(med, 1))
        with con.transaction():
            set_scope(con, ["G100"])
            med, _ = median_ms(con, raw_grid)
            emit(n, "month x category, one grid [raw, app role scoped to it]", med / 1000, median_ms=round(med, 1))
            med, _ = median_ms(con, raw_grid.replace(" WHERE grid_code = 'G100'", ""))
            emit(n, "month x category, no WHERE [raw, app role scoped to one grid]", med / 1000, median_ms=round(med, 1))


def run(server: pg_server.PgServer, n: int) -> float:
    """Every figure at ``n`` rows in a new database; return the wall time."""
    t0 = time.perf_counter()
    name = f"bench_{n}"
    url = server.create_database(name)
    migrate(url)
    roles = Roles.for_database(name)
    try:
        load(url, n)
        import_path(url, n)
        queries(url, n, roles)
    finally:
        server.drop_database(name)
    wall = time.perf_counter() - t0
    emit(n, "wall time of this size", wall)
    return wall


def table() -> str:
    lines = ["| rows | figure | result |", "|---:|---|---|"]
    for r in RESULTS:
        if r["figure"] == "size":
            result = f"{r['total_mb']:,} MB with indexes ({r['heap_mb']:,} MB heap)"
        elif "median_ms" in r:
            result = f"{r['median_ms']:,} ms median" + (f" (max {r['max_ms']:,})" if "max_ms" in r else "")
        else:
            result = f"{r['seconds']:.2f} s" + (f" ({r['rows_per_s']:,} rows/s)" if "rows_per_s" in r else "")
            if "rollup_rows" in r:
                result += f", {r['rollup_rows']:,} + {r['coarse_rows']:,} rollup rows"
        lines.append(f"| {r['rows']:,} | {r['figure']} | {result} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--try-10m", action="store_true", help="then 10,000,000 rows if that projects to < 5 min")
    args = parser.parse_args()
    server = start()
    try:
        print(json.dumps({"server": server.versions, "tuning": TUNING}), flush=True)
        wall = run(server, args.rows)
        if args.try_10m:
            projected = wall * 10_000_000 / args.rows
            if projected < 300:
                run(server, 10_000_000)
            else:
                print(json.dumps({"skipped": "10,000,000 rows", "projected_s": round(projected)}), flush=True)
    finally:
        server.stop()
    print(table())


if __name__ == "__main__":
    main()
