"""The dashboard's aggregate queries on the PostgreSQL + PostGIS store and on SQLite, side by side, at 1M and 10M tickets.

Starts its own throwaway cluster (tests/pg_server.py, with bench_pg_sql.py's tuning),
loads the 1,000,000-ticket demo store (``--lite``, default /tmp/bench1m.sqlite, only read:
it is copied first with SQLite's backup) into it through the store itself (units and places
with ``write_units`` / ``write_places``; tickets and links by COPY into the store's staging
table and the store's own upsert, then one full ``refresh_rollups``: load and rollup times
are reported apart), then times every store call the meeting view makes (the KPI board's
three ``kpi_counts``, the top 10's ``top_problem_counts``, the map's ``count_tickets``, for the
whole district, one sub-district and a grid leader) and the drill-down map's unit counts,
``--runs`` times each on both stores: median and p95. The 1M figures also time the top 10
before ``top_problem_counts`` (``problem_counts`` of four months by channel, ranked in pandas)
next to now, the store call alone and the whole top 10 without its labels. Next to the wall
times, CPU ms per call: this process's (``time.process_time``: all of SQLite's work, the driver
and the frames for PostgreSQL) and the PostgreSQL backends' (user + system from ``/proc``; the
machine is shared, so CPU says more than wall time).

The hotspots page issues no store aggregate: it reads the analysis columns of the scope's
tickets once (``read_tickets``, cached) and counts in pandas; that read is timed too (3
runs), for the record.

``--ten-million`` (``--skip-1m``: without the 1M figures): then replicates the 1M demo tickets 9 more times in SQL (new source ids
``<id>~y<k>``, every time shifted back by k whole years, k = 1..9, so they form a ten-year
series; links copied with them), refreshes the rollups and times the meeting view's
queries with 8 concurrent clients (threads sharing the store's pool of 8 connections).
It stops, with the reason printed, when the first copy projects the nine to more than
``--budget`` seconds (600).

Run (under the benchmark lock, as every benchmark here):
    flock /tmp/minqing-bench.lock env PYTHONPATH=src .venv/bin/python benchmarks/bench_pg.py [--ten-million]
Prints one JSON line per figure and a Markdown table at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # bench_pg_sql imports the tests' throwaway server
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_pg_sql import TUNING
from bench_pg_sql import start as start_server  # the tuned throwaway cluster

from minqing.analysis.kpis import comparison_months, month_bounds, shift_month
from minqing.analysis.top_problems import roll_up, top_problems
from minqing.auth import User
from minqing.model import TICKET_COLUMNS
from minqing.store import open_store
from minqing.store.postgres.rollups import refresh_rollups
from minqing.store.postgres.store import PostgresStore
from minqing.store.postgres.util import copy_rows, create_ticket_stage

AS_OF = "2026-12-01 12:00"
RESULTS: list[dict] = []


def emit(**rec) -> None:
    RESULTS.append(rec)
    print(json.dumps(rec, ensure_ascii=False), flush=True)


def copy_lite(source: Path, folder: Path) -> str:
    """Copy the demo store with SQLite's backup (the source is opened read-only); return the copy's URL."""
    target = folder / "lite.sqlite"
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    src.backup(dst)
    src.close()
    dst.close()
    return f"sqlite:///{target}"


def load(lite, pg: PostgresStore, lite_path: str) -> None:
    """Load units, places, tickets and links of ``lite`` into ``pg``; emit the load and rollup times."""
    t0 = time.perf_counter()
    pg.set_timezone(lite.timezone)
    pg.write_units(lite.read_units().drop(columns="unit_uid"))
    pg.write_places(lite.read_places())
    uids = dict(zip(zip(lite.read_units()["code"], lite.read_units()["valid_from"]), lite.read_units()["unit_uid"]))
    mapping = [(int(uids[k]), int(u)) for k, u in zip(zip(pg.read_units()["code"], pg.read_units()["valid_from"]),
                                                      pg.read_units()["unit_uid"])]
    src = sqlite3.connect(f"file:{lite_path}?mode=ro", uri=True)
    with pg._tx() as con:
        con.execute("ALTER TABLE tickets DISABLE TRIGGER USER")  # one full refresh below, not a mark per row
        con.execute("ALTER TABLE ticket_places DISABLE TRIGGER USER")
        create_ticket_stage(con, "_w_tickets")
        n = copy_rows(con, "_w_tickets", TICKET_COLUMNS,
                      src.execute(f"SELECT {', '.join(TICKET_COLUMNS)} FROM tickets"))
        con.execute("CREATE TEMP TABLE _uid (lite bigint, pg bigint) ON COMMIT DROP")
        copy_rows(con, "_uid", ("lite", "pg"), mapping)
        con.execute("UPDATE _w_tickets w SET grid_uid = u.pg FROM _uid u WHERE u.lite = w.grid_uid")
        pg._upsert_tickets(con, "_w_tickets")
        copy_rows(con, "ticket_places", ("source_id", "place_id"),
                  src.execute("SELECT source_id, place_id FROM ticket_places"))
        con.execute("ALTER TABLE tickets ENABLE TRIGGER USER")
        con.execute("ALTER TABLE ticket_places ENABLE TRIGGER USER")
    emit(figure="load 1M demo tickets + links (COPY, store upsert, indexes live)", rows=n,
         seconds=round(time.perf_counter() - t0, 1))
    t0 = time.perf_counter()
    with pg._tx() as con:
        refresh_rollups(con, full=True)
        sizes = [con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("ticket_rollup", "place_rollup")]
    emit(figure="full rollup refresh", rows=n, seconds=round(time.perf_counter() - t0, 1),
         ticket_rollup_rows=sizes[0], place_rollup_rows=sizes[1])
    with pg._tx() as con:
        con.execute("ANALYZE")
    t0 = time.perf_counter()
    with pg._tx() as con:  # an import's share: one month's rollups recomputed
        con.execute("INSERT INTO rollup_dirty SELECT DISTINCT month FROM ticket_rollup ORDER BY month DESC LIMIT 1")
        refresh_rollups(con)
    emit(figure="incremental rollup refresh, one month", rows=n, seconds=round(time.perf_counter() - t0, 2))


def meeting_calls(store, lite, before: bool = False) -> dict:
    """name -> callable: every store call of the meeting view, for three scopes, plus the drill-down unit counts.

    With ``before`` also the top 10's call before ``top_problem_counts`` (``problem_counts`` of four
    months by channel), and the top 10 end to end (the store call and ``top_problems``, without the
    labels) both ways.
    """
    from minqing.model import CITIZEN_CHANNELS
    from minqing.ui.cache.meeting import TOP_N, Scope

    month = str(lite.received_range()[1].tz_localize(None).to_period("M") - 1)  # the last whole month
    tz = lite.timezone
    grids = lite.count_tickets("grid").dropna().sort_values("tickets")
    sd = lite.count_tickets("subdistrict").dropna().sort_values("tickets")["code"].iloc[-1]
    leader = User("grid_leader", grid_codes=tuple(grids["code"].iloc[-3:]), name="leader")
    planner = User("planner", name="planner")
    scopes = {"district": (planner, Scope(None, None, None, CITIZEN_CHANNELS), "subdistrict"),
              "sub-district": (planner, Scope("subdistrict", (sd,), None, CITIZEN_CHANNELS), "grid"),
              "grid leader": (leader, Scope("grid", leader.grid_codes, None, CITIZEN_CHANNELS), "grid")}
    calls = {}
    for name, (user, scope, level) in scopes.items():
        every = Scope(scope.level, scope.codes, scope.theme, None)
        for label, m in zip(("this month", "last month", "last year"), comparison_months(month)):
            start, end = month_bounds(m, tz)
            calls[f"{name}: kpi_counts {label}"] = partial(store.kpi_counts, every.where(user, start, end), AS_OF)
        start, _ = month_bounds(shift_month(month, -3), tz)
        _, end = month_bounds(month, tz)
        where = scope.where(user, start, end)
        calls[f"{name}: top_problem_counts 4 months"] = partial(store.top_problem_counts, where, month, 2, TOP_N)
        if before:
            calls[f"{name}: before: problem_counts 4 months"] = partial(store.problem_counts, where, by_channel=True)
            calls[f"{name}: before: top 10 (problem_counts, roll_up, top_problems)"] = partial(
                _top_before, store, where, month)
            calls[f"{name}: top 10 (top_problem_counts, top_problems)"] = partial(_top_after, store, where, month)
        start, end = month_bounds(month, tz)
        calls[f"{name}: count_tickets {level} month"] = partial(store.count_tickets, level,
                                                                 scope.where(user, start, end), by_channel=True)
    calls["drill-down: count_tickets grid, all time"] = lambda: store.count_tickets("grid")
    calls["grid leader: count_tickets grid, all time"] = (
        lambda: store.count_tickets("grid", scopes["grid leader"][1].where(leader)))
    return calls


def _top_before(store, where, month):
    """The meeting view's top 10 before ``top_problem_counts``: every problem row, ranked in pandas."""
    return top_problems(roll_up(store.problem_counts(where, by_channel=True), 2), month)


def _top_after(store, where, month):
    """The meeting view's top 10 now (``ui/cache/meeting.top`` without the labels)."""
    rows, typical = store.top_problem_counts(where, month, 2)
    return top_problems(rows, month, typical=typical)


def _rows(result) -> int:
    """Rows a call returned (both frames of a pair; a top 10's table)."""
    if isinstance(result, tuple):
        return sum(len(r) for r in result)
    return len(getattr(result, "table", result))


def timed(fn, runs: int, cpu=None) -> list[float]:
    """Wall milliseconds of ``runs`` warm calls; with ``cpu`` (a dict) also CPU ms per call put into it.

    ``cpu["client"]``: this process (all of SQLite's work); ``cpu["server"]``: the PostgreSQL backends
    of ``cpu["pg"]``'s database (:func:`server_cpu`; parallel workers, gone when read, are not counted).
    """
    fn()  # warm
    out = []
    before = (time.process_time(), server_cpu(cpu.get("pg")) if cpu is not None else {})
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    if cpu is not None:
        after = server_cpu(cpu.get("pg"))
        cpu["client"] = (time.process_time() - before[0]) * 1000 / runs
        cpu["server"] = sum(v - before[1].get(pid, 0.0) for pid, v in after.items()) * 1000 / runs if after else None
    return out


_MONITOR: dict = {}


def server_cpu(pg) -> dict:
    """CPU seconds (user + system, from /proc) of the backends of ``pg``'s database, by pid; {} without ``pg``.

    Asked on a connection of its own (not one of the pool's, which run the calls), left out.
    """
    if pg is None:
        return {}
    import psycopg

    con = _MONITOR.get(pg._conninfo) or _MONITOR.setdefault(pg._conninfo, psycopg.connect(pg._conninfo,
                                                                                           autocommit=True))
    pids = [r[0] for r in con.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                      "AND pid <> pg_backend_pid()")]
    tick, out = os.sysconf("SC_CLK_TCK"), {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # another machine's server, or gone
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / tick
    return out


def p95(values) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(0.95 * (len(values) - 1)))]


def side_by_side(pg, lite, runs: int, rows: int) -> None:
    pg_calls, lite_calls = meeting_calls(pg, lite, before=True), meeting_calls(lite, lite, before=True)
    pg.rollup_uses.clear()
    for name in pg_calls:
        pg_cpu, lite_cpu = {"pg": pg}, {}
        a, b = timed(pg_calls[name], runs, pg_cpu), timed(lite_calls[name], runs, lite_cpu)
        server = pg_cpu["server"]
        emit(figure=name, rows=rows, runs=runs, result_rows=_rows(pg_calls[name]()),
             pg_median_ms=round(statistics.median(a), 1), pg_p95_ms=round(p95(a), 1),
             pg_client_cpu_ms=round(pg_cpu["client"], 1), pg_server_cpu_ms=None if server is None else round(server, 1),
             sqlite_median_ms=round(statistics.median(b), 1), sqlite_p95_ms=round(p95(b), 1),
             sqlite_cpu_ms=round(lite_cpu["client"], 1))
    emit(figure="aggregates served by rollups / raw", rows=rows, **dict(pg.rollup_uses))
    from minqing.store import TicketFilter
    from minqing.ui.cache.hotspots import COLUMNS

    where = TicketFilter(columns=COLUMNS)
    a, b = timed(lambda: pg.read_tickets(where), 3), timed(lambda: lite.read_tickets(where), 3)
    emit(figure="hotspots: read_tickets analysis columns (not an aggregate)", rows=rows, runs=3,
         pg_median_ms=round(statistics.median(a)), sqlite_median_ms=round(statistics.median(b)))


def replicate(pg: PostgresStore, budget: float, copies: int = 9) -> float | None:
    """Add ``copies`` shifted copies of the tickets and links (k whole years back, source id ``<id>~y<k>``).

    Returns the seconds taken, or None (with the reason printed) when the first copy projects the
    whole to more than ``budget`` seconds; the copies made stay.
    """
    times = [c for c in TICKET_COLUMNS if c.endswith("_at")]
    t0 = time.perf_counter()
    for k in range(1, copies + 1):
        shift = f"make_interval(years => {k})"
        values = [f"source_id || '~y{k}'" if c == "source_id" else f"{c} - {shift}" if c in times
                  else f"repeat_of || '~y{k}'" if c == "repeat_of" else c for c in TICKET_COLUMNS]
        with pg._tx() as con:
            con.execute("ALTER TABLE tickets DISABLE TRIGGER USER")  # one full refresh after, not a mark per copy
            con.execute("ALTER TABLE ticket_places DISABLE TRIGGER USER")
            con.execute(f"INSERT INTO tickets ({', '.join(TICKET_COLUMNS)}) SELECT {', '.join(values)} FROM tickets "
                        "WHERE strpos(source_id, '~') = 0")
            con.execute(f"INSERT INTO ticket_places SELECT source_id || '~y{k}', place_id FROM ticket_places "
                        "WHERE strpos(source_id, '~') = 0")
            con.execute("ALTER TABLE tickets ENABLE TRIGGER USER")
            con.execute("ALTER TABLE ticket_places ENABLE TRIGGER USER")
        spent = time.perf_counter() - t0
        print(json.dumps({"replica": k, "seconds": round(spent)}), flush=True)
        if k == 1 and spent * copies > budget:
            print(f"10M skipped: the first copy of 1M took {spent:.0f} s, so {copies} project to "
                  f"{spent * copies:.0f} s (> the {budget:.0f} s budget)", flush=True)
            return None
    return time.perf_counter() - t0


def concurrent(pg, lite, clients: int, rounds: int, rows: int) -> None:
    calls = {k: v for k, v in meeting_calls(pg, lite).items() if not k.startswith(("drill", "grid leader: count_tickets grid, all"))}
    for fn in calls.values():
        fn()
    lat: dict[str, list[float]] = {k: [] for k in calls}
    lock = threading.Lock()

    def client():
        for _ in range(rounds):
            for name, fn in calls.items():
                t0 = time.perf_counter()
                fn()
                ms = (time.perf_counter() - t0) * 1000
                with lock:
                    lat[name].append(ms)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    every = [v for vs in lat.values() for v in vs]
    for name, vs in lat.items():
        emit(figure=f"8 clients: {name}", rows=rows, calls=len(vs), pg_median_ms=round(statistics.median(vs), 1),
             pg_p95_ms=round(p95(vs), 1))
    emit(figure="8 clients: every meeting-view query", rows=rows, calls=len(every), wall_s=round(wall, 1),
         pg_median_ms=round(statistics.median(every), 1), pg_p95_ms=round(p95(every), 1))


def table() -> str:
    head = ("| figure | rows | PostgreSQL median / p95 ms | PostgreSQL CPU ms: client + server | "
            "SQLite median / p95 ms | SQLite CPU ms |")
    lines = [head, "|---|---:|---:|---:|---:|---:|"]
    for r in RESULTS:
        if "pg_median_ms" in r:
            lite = (f"{r['sqlite_median_ms']} / {r.get('sqlite_p95_ms', '')}" if "sqlite_median_ms" in r else "")
            cpu = f"{r['pg_client_cpu_ms']} + {r['pg_server_cpu_ms']}" if "pg_client_cpu_ms" in r else ""
            lines.append(f"| {r['figure']} | {r['rows']:,} | {r['pg_median_ms']} / {r.get('pg_p95_ms', '')} | {cpu} | "
                         f"{lite} | {r.get('sqlite_cpu_ms', '')} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lite", default="/tmp/bench1m.sqlite")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--ten-million", action="store_true")
    parser.add_argument("--skip-1m", action="store_true", help="with --ten-million: do not time the 1M side by side")
    parser.add_argument("--budget", type=float, default=600.0, help="seconds the 9M more rows may take (projected)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds of the meeting view per client (10M)")
    args = parser.parse_args()
    server = start_server()
    try:
        print(json.dumps({"server": server.versions, "tuning": TUNING}), flush=True)
        with tempfile.TemporaryDirectory(prefix="bench_pg_") as folder:
            lite = open_store(copy_lite(Path(args.lite), Path(folder)))
            pg = PostgresStore(server.create_database("bench"), max_size=8)
            load(lite, pg, args.lite)
            rows = pg.ticket_count()
            if not args.skip_1m:
                side_by_side(pg, lite, args.runs, rows)
            if args.ten_million:
                seconds = replicate(pg, args.budget)
                if seconds is not None:
                    emit(figure="replicate 9 shifted copies in SQL", rows=9 * rows, seconds=round(seconds))
                    t0 = time.perf_counter()
                    with pg._tx() as con:
                        refresh_rollups(con, full=True)
                    emit(figure="full rollup refresh", rows=pg.ticket_count(), seconds=round(time.perf_counter() - t0))
                    with pg._tx() as con:
                        con.execute("ANALYZE")
                    concurrent(pg, lite, 8, args.rounds, pg.ticket_count())
            pg.close()
            lite.close()
    finally:
        server.stop()
    print(table())


if __name__ == "__main__":
    main()
