"""Page speed on a large store: cold first render, warm rerun, and map HTML size per page.

Targets (issue 6), on a 1,000,000-ticket store: first render of the meeting view at most 8 s
cold; a warm rerun of any page at most 1.5 s; map HTML per page at most 3 MB.

Build the store once (about a minute):
    .venv/bin/minqing --db sqlite:////tmp/bench1m.sqlite demo --tickets 1000000
Then run:
    .venv/bin/python benchmarks/bench_pages.py --url sqlite:////tmp/bench1m.sqlite
Timing uses Streamlit's AppTest in this process; "cold" clears every st.cache first.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAP_BYTES: list[int] = []
DEFAULT_VIEW = "meeting"


def _patch_st_folium():
    import streamlit_folium

    original = streamlit_folium.st_folium

    def recording(fig, *args, **kwargs):
        MAP_BYTES.append(len(fig.get_root().render().encode("utf-8")))
        return original(fig, *args, **kwargs)

    streamlit_folium.st_folium = recording


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--pages", nargs="*", default=None)
    args = parser.parse_args()
    os.environ["MINQING_DATABASE_URL"] = args.url
    _patch_st_folium()
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    views = args.pages or sorted(p.stem for p in (ROOT / "views").glob("*.py"))
    from minqing.store import open_store

    with open_store(args.url) as s:
        n = s.ticket_count()
    print(json.dumps({"store": args.url, "tickets": n}))
    for view in views:
        st.cache_data.clear()
        st.cache_resource.clear()
        logging.getLogger("streamlit").setLevel(logging.ERROR)
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
        MAP_BYTES.clear()
        t = time.perf_counter()
        at.run()  # the default page (the meeting view): its first render is the cold one
        cold = time.perf_counter() - t
        if view != DEFAULT_VIEW:
            at.switch_page(str(ROOT / "views" / f"{view}.py"))
            MAP_BYTES.clear()
            t = time.perf_counter()
            at.run()
            cold = time.perf_counter() - t  # caches of the default page are warm by now
        maps_cold = list(MAP_BYTES)
        MAP_BYTES.clear()
        t = time.perf_counter()
        at.run()
        warm = time.perf_counter() - t
        print(json.dumps({
            "page": view, "cold_s": round(cold, 2), "warm_rerun_s": round(warm, 2),
            "map_html_mb": [round(b / 2**20, 2) for b in (maps_cold or MAP_BYTES)],
            "exception": bool(at.exception), "errors": [e.value for e in at.error][:2],
        }, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
