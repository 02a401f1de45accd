"""Where and how the compiled (numba) kernels run: one place for the settings they share.

- Threading layer ``workqueue``: fork-safe (the import pipeline forks worker processes, and
  GNU OpenMP kills a forked child once its parent has run a parallel kernel; TBB is not
  installable here). It must not be entered by two threads at once, so every parallel kernel
  call holds :data:`KERNEL_LOCK` (Streamlit serves sessions on threads).
- Compiled code is cached on disk (``cache=True``): next to the modules, else in the user's
  cache when the package folder is read-only (``NUMBA_CACHE_DIR`` wins when set).

Both are applied by :func:`configure`, which ``minqing/__init__.py`` calls before numba is imported.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

KERNEL_LOCK = threading.RLock()
"""Held around every parallel numba call (the workqueue layer is not thread-safe)."""


def configure() -> None:
    """Set numba's threading layer and cache folder unless the environment chose them."""
    os.environ.setdefault("NUMBA_THREADING_LAYER", "workqueue")
    if "NUMBA_CACHE_DIR" not in os.environ and not os.access(Path(__file__).resolve().parent, os.W_OK):
        os.environ["NUMBA_CACHE_DIR"] = str(Path.home() / ".cache" / "minqing" / "numba")
