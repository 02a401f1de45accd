"""Time ``minqing copy`` of a SQLite store into a throwaway PostGIS database, and its peak memory.

Starts its own throwaway cluster (tests/pg_server.py), copies the SQLite store SRC
(opened read-only is not possible for a store, so pass a copy of the file you must
not write) into a new database with :func:`minqing.store.copy.copy_store`, then
verifies it with :func:`minqing.store.copy.verify_copy`. Prints one JSON line with
the copy and verification seconds, the rows per table and the peak resident memory
of this process (the server's memory is not counted).

Run (under the machine's benchmark lock):
    flock /tmp/minqing-bench.lock env PYTHONPATH=src .venv/bin/python benchmarks/bench_copy.py /tmp/copy-of-bench1m.sqlite
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import pg_server  # the tests' throwaway server

from minqing.store import open_store
from minqing.store.copy import CHUNK, copy_store, format_checks, verify_copy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="path of the SQLite store to copy")
    parser.add_argument("--chunk", type=int, default=CHUNK)
    parser.add_argument("--no-verify", action="store_true")
    args = parser.parse_args()
    server = pg_server.start_server()
    try:
        url = server.create_database("copybench")
        t0 = time.perf_counter()
        with open_store(f"sqlite:///{Path(args.source).resolve()}") as src, open_store(url) as dst:
            counts = copy_store(src, dst, chunk=args.chunk, progress=lambda s: print(f"  {s}", file=sys.stderr))
            copy_s = time.perf_counter() - t0
            checks = [] if args.no_verify else verify_copy(src, dst, chunk=args.chunk)
            verify_s = time.perf_counter() - t0 - copy_s
        print(format_checks(checks), file=sys.stderr)
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"tickets": counts["tickets"], "copy_s": round(copy_s, 1), "verify_s": round(verify_s, 1),
                          "all_ok": all(c.ok for c in checks), "peak_rss_mib": round(peak_mib), "counts": counts}))
        return 0 if all(c.ok for c in checks) else 1
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
