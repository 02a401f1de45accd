"""The PostgreSQL store's rollup tables (sql/006_rollups.sql): equal to a recount after every write, read by the pages.

Every write that changes tickets or links (write_tickets, an import and a re-import with
changes, a relink, a deletion) leaves ``ticket_rollup`` and ``place_rollup`` equal to a
from-scratch recount of the tickets, and the aggregates equal to the pandas reference; the
filters the meeting view passes are served by the rollups, not by the tickets.
"""

from __future__ import annotations

import pandas as pd
import psycopg
import pytest
from store.test_contract import AS_OF, _same, load_city

from minqing.analysis.kpis import comparison_months, month_bounds, shift_month
from minqing.auth import User
from minqing.geo.link import apply_links, link_tickets
from minqing.model import UNIT_LEVELS
from minqing.store import TicketFilter, open_store, reference
from minqing.store.postgres.rollups import TABLES, refresh_rollups


@pytest.fixture
def city(pg_fresh_url, tiny_units, tiny_places):
    store = open_store(pg_fresh_url)
    load_city(store, tiny_units, tiny_places)
    yield store
    store.close()


def _rows(con) -> dict:
    return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in TABLES}


def assert_current(store) -> None:
    """The rollups equal a recount from scratch, nothing is left marked, and the aggregates equal the reference."""
    with psycopg.connect(store.url) as con:
        assert con.execute("SELECT count(*) FROM rollup_dirty").fetchone()[0] == 0
        kept = _rows(con)
        refresh_rollups(con, full=True)
        assert _rows(con) == kept
        con.rollback()
    assert_reference(store, None)
    assert_reference(store, TicketFilter(start="2025-03-01", end="2025-05-01", categories=("02",)))


def assert_reference(store, where) -> None:
    tickets, links = reference.ticket_frames(store, where)
    for level in UNIT_LEVELS:
        _same(store.count_tickets(level, where), reference.count_tickets(tickets, level))
        _same(store.count_tickets(level, where, by_channel=True), reference.count_tickets(tickets, level, True))
    _same(store.kpi_counts(where, AS_OF), reference.kpi_counts(tickets, AS_OF))
    _same(store.problem_counts(where, by_channel=True), reference.problem_counts(tickets, links, by_channel=True))
    for month in ("2025-03", "2025-04", "2025-08"):
        rows, typical = store.top_problem_counts(where, month, 2, 3)
        want_rows, want_typical = reference.top_problem_counts(tickets, links, month, 2, 3)
        _same(rows, want_rows)
        pd.testing.assert_frame_equal(typical, want_typical, check_exact=True)


def test_rollups_equal_a_recount_after_writes_and_updates(city):
    assert_current(city)
    assert city.ticket_count() > 0
    with psycopg.connect(city.url) as con:
        assert con.execute("SELECT sum(tickets) FROM ticket_rollup").fetchone()[0] == city.ticket_count()
    # an update moves a ticket to another month and category, another one loses its place links
    t = city.read_tickets(TicketFilter(columns=None))
    t.loc[t["source_id"] == "T05", ["received_at", "category"]] = [pd.Timestamp("2025-08-02 10:00",
                                                                               tz="Asia/Shanghai"), "03.01.01"]
    t.loc[t["source_id"] == "T01", "repeat_of"] = "T15"
    links = city.read_ticket_places()
    city.write_tickets(t[t["source_id"].isin(["T05", "T01", "T10"])], links[links["source_id"] != "T10"])
    assert city.count_tickets("grid", TicketFilter(start="2025-08-01", end="2025-09-01"))["tickets"].sum() == 5
    assert_current(city)


def test_rollups_follow_a_relink_and_a_deletion(city, tiny_units, tiny_places):
    t = city.read_tickets()
    moved = tiny_places.copy()
    moved.loc[moved["place_id"] == "H1", "radius_m"] = 5.0  # fewer tickets at the hospital entrance
    links = link_tickets(t, city.read_units(), moved)
    linked, place_links = apply_links(t, links)
    linked.loc[linked["source_id"] == "T04", ["grid_code", "community_code"]] = ["G2", "C1"]
    city.write_relinked(linked, place_links)
    assert_current(city)
    with psycopg.connect(city.url) as con:  # no store method deletes tickets: the triggers still see it
        con.execute("DELETE FROM tickets WHERE source_id IN ('T01', 'T12')")
        con.commit()
        assert con.execute("SELECT count(*) FROM rollup_dirty").fetchone()[0] == 2
    city.rollup_uses.clear()
    assert_reference(city, None)  # marked months: the reads fall back to the tickets, still exact
    assert city.rollup_uses["raw"] > 0 and city.rollup_uses["rollup"] == 0
    with psycopg.connect(city.url) as con:
        assert refresh_rollups(con) == 2
        con.commit()
    assert_current(city)


def test_rollups_follow_imports(pg_fresh_url, tiny_units, tiny_places, tmp_path):
    from minqing.ingest.pipeline import ImportOptions, import_file

    header = ["工单编号", "受理时间", "诉求渠道", "诉求类型", "问题分类", "诉求内容", "诉求地址", "经度", "纬度"]
    rows = [["A01", "2025-04-03 14:05", "12345热线", "投诉", "噪声扰民", "吵", "测试路1号", "121.505", "31.285"],
            ["A02", "2025-04-04 09:00", "网站", "求助", "电梯故障", "电梯坏了", "", "121.515", "31.285"],
            ["A03", "2025-05-04 10:00", "12345热线", "投诉", "噪声扰民", "吵", "", "121.503", "31.283"]]
    now = pd.Timestamp("2026-01-01 12:00", tz="Asia/Shanghai")
    with open_store(pg_fresh_url) as store:
        store.write_units(tiny_units.drop(columns="unit_uid"))
        store.write_places(tiny_places)
        for i, change in enumerate((None, (1, 1, "2025-06-30 23:30"), (2, 4, "电梯故障"))):
            if change:
                rows[change[0]][change[1]] = change[2]  # A02 moves to June, then A03 to another category
            path = tmp_path / f"import{i}.csv"
            pd.DataFrame(rows, columns=header).to_csv(path, index=False)
            import_file(store, path, ImportOptions(now=now))
            assert_current(store)
        kpi = store.kpi_counts(None, AS_OF).set_index("month")["tickets"].to_dict()
        assert kpi == {"2025-04": 1, "2025-05": 1, "2025-06": 1}


def test_the_meeting_view_s_filters_are_served_by_the_rollups(city):
    from minqing.ui.cache.meeting import Scope

    month = "2025-04"
    leader = User("grid_leader", grid_codes=("G3",), community_codes=("C1",), name="g")
    city.rollup_uses.clear()
    for user in (User("planner", name="p"), leader):
        for scope in (Scope(), Scope(level="community", codes=("C1",), theme="02"), Scope(theme="04")):
            for m in comparison_months(month):  # the KPI board
                start, end = month_bounds(m, city.timezone)
                city.kpi_counts(scope.where(user, start, end), AS_OF)
            start, _ = month_bounds(shift_month(month, -3), city.timezone)  # the top 10
            _, end = month_bounds(month, city.timezone)
            city.top_problem_counts(scope.where(user, start, end), month)
            start, end = month_bounds(month, city.timezone)  # the map
            city.count_tickets("grid", scope.where(user, start, end), by_channel=True)
            city.count_tickets("community", scope.where(user))  # the drill-down map's unit counts
    assert city.rollup_uses == {"rollup": 2 * 3 * 6}
    city.count_tickets("grid", TicketFilter(search="T0"))
    city.count_tickets("grid", TicketFilter(start="2025-04-02"))
    assert city.rollup_uses["raw"] == 2
    start, end = month_bounds(month, city.timezone)
    clause, params = city._rollup(Scope(theme="02").where(leader, start, end))
    with psycopg.connect(city.url) as con:
        plan = "\n".join(r[0] for r in con.execute(
            f"EXPLAIN SELECT grid_code, channel, SUM(tickets) FROM ticket_rollup{clause} GROUP BY 1, 2", params))
    assert "ticket_rollup" in plan and " tickets" not in plan


def test_a_grid_leader_s_scope_applies_to_the_rollups(pg_fresh_url, tiny_units, tiny_places):
    from psycopg import sql

    from minqing.store.postgres.migrate import Roles, migrate
    from minqing.store.postgres.scope import set_scope

    migrate(pg_fresh_url)  # the roles first, so that the app role may read the owner's tables
    roles = Roles.for_database(pg_fresh_url.rsplit("/", 1)[1])
    with open_store(pg_fresh_url) as store:
        load_city(store, tiny_units, tiny_places)
    with psycopg.connect(pg_fresh_url) as con:
        con.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(roles.app)))
        assert con.execute("SELECT count(*) FROM ticket_rollup").fetchone()[0] == 0  # unset: fails closed
        con.rollback()
        con.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(roles.app)))
        set_scope(con, ["G3"])
        for table in TABLES:
            grids = {r[0] for r in con.execute(f"SELECT DISTINCT grid_code FROM {table}")}
            assert grids == {"G3"}, table
        con.rollback()
        con.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(roles.app)))
        set_scope(con, None)
        assert con.execute("SELECT sum(tickets) FROM ticket_rollup").fetchone()[0] == 20


def test_opening_the_store_rolls_up_tickets_stored_before_the_rollups(city):
    """Migration 006 marks every month ('-infinity'); the store's next opening recomputes them."""
    with psycopg.connect(city.url) as con:
        for table in TABLES:
            con.execute(f"DELETE FROM {table}")
        con.execute("INSERT INTO rollup_dirty VALUES ('-infinity')")
    with open_store(city.url) as again:
        assert_current(again)
        assert again.rollup_uses["rollup"] > 0 and again.rollup_uses["raw"] == 0


def test_the_problem_rollup_is_read_by_month_by_place_and_by_grid(city):
    """Migration 008: the top 10's month, its places over four months, a grid leader's rows by grid; every
    rollup in month order."""
    with psycopg.connect(city.url) as con:
        indexes = dict(con.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'problem_rollup'"))
        assert "(month)" in indexes["problem_rollup_month"]
        assert "(where_id, month)" in indexes["problem_rollup_where"]
        assert "(grid_code, month)" in indexes["problem_rollup_grid"]
        assert not con.execute("SELECT 1 FROM pg_indexes WHERE indexname IN ('place_rollup_place', 'place_rollup_grid')"
                               ).fetchall()  # dropped: place_rollup is read whole, per month
        con.execute("SET enable_seqscan = off")  # the tiny city's tables would be scanned whatever the indexes
        plan = " ".join(r[0] for r in con.execute(
            "EXPLAIN SELECT * FROM problem_rollup WHERE where_id = 'H1' AND month >= '2025-01-01'"))
        assert "problem_rollup_where" in plan
        con.execute("RESET enable_seqscan")
        refresh_rollups(con, full=True)
        for table in TABLES:  # a month's rows lie together
            months = [r[0] for r in con.execute(f"SELECT month FROM {table} ORDER BY ctid")]
            assert months == sorted(months) and len(set(months)) > 1, table
        # a ticket counts at each of its places, else at its grid: the rollup's rows are a recount of the links
        placed = con.execute(
            "SELECT SUM(tickets) FILTER (WHERE placed), SUM(tickets) FILTER (WHERE NOT placed) FROM problem_rollup"
        ).fetchone()
        links, unplaced = con.execute(
            "SELECT (SELECT count(*) FROM ticket_places), (SELECT count(*) FROM tickets t WHERE grid_code IS NOT NULL "
            "AND NOT EXISTS (SELECT 1 FROM ticket_places p WHERE p.source_id = t.source_id))").fetchone()
        assert placed == (links, unplaced) and links > 0 and unplaced > 0
        levels = con.execute("SELECT DISTINCT category, category1, category2 FROM problem_rollup").fetchall()
        assert levels and all((c1, c2) == (c.split(".")[0], ".".join(c.split(".")[:2])) for c, c1, c2 in levels)
