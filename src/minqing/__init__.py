"""Minqing Map (民情地图): place-based governance of 12345 hotline work orders."""

__version__ = "0.1.0"


def _numba_cache() -> None:
    """Keep compiled kernels where they can be written: next to the modules, else in the user's cache."""
    import os
    from pathlib import Path

    if "NUMBA_CACHE_DIR" in os.environ:
        return
    here = Path(__file__).resolve().parent
    if not os.access(here, os.W_OK):
        os.environ["NUMBA_CACHE_DIR"] = str(Path.home() / ".cache" / "minqing" / "numba")


_numba_cache()
