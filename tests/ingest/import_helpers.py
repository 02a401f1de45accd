"""One way to run an import in the import tests (the tiny city's store is the ``store`` fixture)."""

from __future__ import annotations

import pandas as pd

from minqing.ingest.pipeline import ImportOptions, import_file

NOW = pd.Timestamp("2026-01-01 12:00", tz="Asia/Shanghai")
"""The present of the import tests (times after it are in the future)."""


def run_import(store, path, **kw):
    """Import ``path`` with ImportOptions(**kw); the present is :data:`NOW` unless given."""
    kw.setdefault("now", NOW)
    return import_file(store, path, ImportOptions(**kw))
