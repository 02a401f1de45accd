"""Benchmarks of the meeting view (联席会议) on a large store.

Targets (issue 6): on a 1,000,000-ticket store the first render of the meeting
view at most 8 s cold, a warm rerun at most 1.5 s (AppTest timing), and the
map's HTML at most 3 MB.

Run: ``.venv/bin/python benchmarks/bench_meeting.py [--url sqlite:////tmp/bench_meeting.sqlite] [--tickets 1000000]``.
The store is built with ``minqing demo`` when it has no tickets (not timed).
Every cold measurement runs in a fresh process, so no Streamlit cache is warm
(the operating system's file cache may be). Prints one JSON line per figure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGE = str(ROOT / "views" / "meeting.py")


def _emit(**kw) -> None:
    print(json.dumps(kw, ensure_ascii=False), flush=True)


def _ensure_store(url: str, n: int) -> int:
    from minqing.store import open_store

    with open_store(url) as store:
        count = store.ticket_count()
    if count == 0:
        env = dict(os.environ, MINQING_DATABASE_URL=url)
        subprocess.run([str(Path(sys.executable).parent / "minqing"), "demo", "--tickets", str(n)], env=env, check=True)
        with open_store(url) as store:
            count = store.ticket_count()
    return count


def _apptest(url: str) -> None:
    """Child process: time the page's first render, a warm rerun and two interactions."""
    os.environ["MINQING_DATABASE_URL"] = url
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=300)
    at.switch_page(PAGE)
    t0 = time.perf_counter()
    at.run()
    cold = time.perf_counter() - t0
    ok = not at.exception and not at.error
    t0 = time.perf_counter()
    at.run()
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    at.selectbox(key="meeting_theme").set_value("02").run()
    theme = time.perf_counter() - t0
    t0 = time.perf_counter()
    at.selectbox(key="meeting_sd").set_value(at.selectbox(key="meeting_sd").options[1]).run()
    scope = time.perf_counter() - t0
    t0 = time.perf_counter()
    at.run()
    warm2 = time.perf_counter() - t0
    ok = ok and not at.exception and not at.error
    _emit(bench="meeting_page_cold_first_render_s", value=round(cold, 2), target=8.0, ok=ok)
    _emit(bench="meeting_page_warm_rerun_s", value=round(warm, 2), target=1.5)
    _emit(bench="meeting_page_change_theme_s", value=round(theme, 2), note="new month x theme: SQL aggregates, map")
    _emit(bench="meeting_page_change_scope_s", value=round(scope, 2), note="sub-district: its grids' map")
    _emit(bench="meeting_page_warm_rerun_after_changes_s", value=round(warm2, 2), target=1.5)


def _pieces(url: str) -> None:
    """Child process: the parts on their own (aggregates, map size, report, PDF)."""
    import pandas as pd

    from minqing.analysis.aggregate import counts_by_unit
    from minqing.analysis.kpis import comparison_months, default_month, kpi_board, month_bounds, shift_month
    from minqing.analysis.top_problems import label_problems, top_problems
    from minqing.maps.choropleth import unit_map
    from minqing.report import find_chromium, meeting_pdf, meeting_report
    from minqing.store import TicketFilter, open_store

    store = open_store(url)
    month = default_month(store.received_range()[1])
    t0 = time.perf_counter()
    frames = [store.kpi_counts(TicketFilter(start=a, end=b), pd.Timestamp.now())
              for a, b in (month_bounds(m) for m in comparison_months(month))]
    board = kpi_board(pd.concat(frames), month)
    _emit(bench="kpi_counts_3_months_sql_s", value=round(time.perf_counter() - t0, 3), month=month, tickets=board.tickets)
    t0 = time.perf_counter()
    start, _ = month_bounds(shift_month(month, -3))
    _, end = month_bounds(month)
    rows, typical = store.top_problem_counts(TicketFilter(start=start, end=end), month, 2)  # as ui/cache/meeting.top
    tp = top_problems(rows, month, typical=typical)
    _emit(bench="top_problems_4_months_sql_s", value=round(time.perf_counter() - t0, 3))
    a, b = month_bounds(month)
    units = counts_by_unit(store.read_units("subdistrict"), store.count_tickets("subdistrict", TicketFilter(start=a, end=b)))
    places = store.read_places()
    t0 = time.perf_counter()
    html = unit_map(units, places, level="subdistrict", measure="tickets").get_root().render()
    _emit(bench="map_html_all_mb", value=round(len(html.encode()) / 1e6, 3), target=3.0,
          build_s=round(time.perf_counter() - t0, 3))
    sd = units.sort_values("tickets").iloc[-1]["code"]
    grids = store.read_units("grid")
    comms = store.read_units("community")
    grids = grids[grids["parent_code"].isin(comms.loc[comms["parent_code"] == sd, "code"])]
    g = counts_by_unit(grids, store.count_tickets("grid", TicketFilter(start=a, end=b, unit_level="subdistrict", unit_codes=(sd,))))
    html = unit_map(g, places[places.intersects(g.union_all())], level="grid", measure="tickets").get_root().render()
    _emit(bench="map_html_subdistrict_grids_mb", value=round(len(html.encode()) / 1e6, 3), target=3.0, grids=len(g))
    top = label_problems(tp.table, places, store.read_units("grid"), "zh")
    t0 = time.perf_counter()
    page = meeting_report(board, top, units, scope_label="全区", has_unplaced=tp.has_unplaced)
    _emit(bench="report_html_s", value=round(time.perf_counter() - t0, 3), kb=round(len(page.encode()) / 1e3, 1))
    if find_chromium():
        t0 = time.perf_counter()
        pdf = meeting_pdf(page)
        _emit(bench="report_pdf_s", value=round(time.perf_counter() - t0, 2), kb=round(len(pdf) / 1e3, 1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", default="sqlite:////tmp/bench_meeting.sqlite")
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--child", choices=["apptest", "pieces"])
    args = ap.parse_args()
    if args.child == "apptest":
        return _apptest(args.url)
    if args.child == "pieces":
        return _pieces(args.url)
    n = _ensure_store(args.url, args.tickets)
    _emit(bench="store", url=args.url, tickets=n)
    for child in ("apptest", "pieces"):
        subprocess.run([sys.executable, __file__, "--url", args.url, "--child", child], check=True,
                       stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
