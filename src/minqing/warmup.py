"""Compile the numba kernels ahead of use, so no request waits for a compilation.

``cache=True`` keeps the machine code on disk (``NUMBA_CACHE_DIR``, else next to the
modules); a fresh install compiles once here, a later process only loads it.
"""

from __future__ import annotations


def warm_up() -> None:
    """Compile or load every kernel on a tiny input; errors are logged, never raised."""
    try:
        from minqing.geo.pip_kernel import warm_up as pip_warm_up

        pip_warm_up()
        from minqing.ingest.fuzzy import warm_up as fuzzy_warm_up
        from minqing.ingest.mentions import warm_up as mentions_warm_up
        from minqing.ingest.rowhash import warm_up as hash_warm_up
        from minqing.ingest.textscan import warm_up as scan_warm_up
        from minqing.ingest.transcode import warm_up as transcode_warm_up

        fuzzy_warm_up()
        mentions_warm_up()
        hash_warm_up()
        scan_warm_up()
        transcode_warm_up()
        try:
            from minqing.analysis.gi_kernel import warm_up as gi_warm_up
        except ImportError:
            return
        gi_warm_up()
    except Exception as exc:  # noqa: BLE001 - a failed warm-up only means the first use compiles
        from minqing.errlog import log_unexpected

        log_unexpected(exc, where="warm-up")
