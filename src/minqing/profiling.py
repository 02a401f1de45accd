"""Where a page run spends its time: an opt-in profile of each script run, for benchmarks.

Set ``MINQING_PROFILE_DIR`` (environment only) and every script run of the app writes
``<dir>/<n>-<page>.prof`` (cProfile) and appends ``<page> <seconds>`` to ``<dir>/runs.txt``.
Off by default: nothing is measured or written.
"""

from __future__ import annotations

import contextlib
import cProfile
import itertools
import os
import re
import threading
import time
from pathlib import Path

ENV = "MINQING_PROFILE_DIR"
_count = itertools.count(1)
_lock = threading.Lock()  # cProfile profiles one thread at a time: one run is profiled at once


@contextlib.contextmanager
def profiled(name: str):
    """Profile the block when ``MINQING_PROFILE_DIR`` is set; otherwise do nothing."""
    folder = os.environ.get(ENV)
    if not folder or not _lock.acquire(blocking=False):
        yield
        return
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:40]
    prof, t0 = cProfile.Profile(), time.perf_counter()
    try:
        prof.enable()
        yield
    finally:
        prof.disable()
        seconds = time.perf_counter() - t0
        n = next(_count)
        prof.dump_stats(str(out / f"{n:04d}-{safe}.prof"))
        with (out / "runs.txt").open("a", encoding="utf-8") as f:
            f.write(f"{n:04d} {name} {seconds:.3f}\n")
        _lock.release()
