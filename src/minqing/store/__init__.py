"""Stores: one interface, an embedded SQLite store and a PostgreSQL + PostGIS store."""

from __future__ import annotations

from minqing.config import database_url
from minqing.errors import ConfigError
from minqing.store.base import Store, TicketFilter


def open_store(url: str | None = None) -> Store:
    """Open (and migrate) the store named by ``url`` or by the settings.

    Parameters
    ----------
    url : str, optional
        ``sqlite:///path`` or ``postgresql://...``; defaults to :func:`minqing.config.database_url`.
    """
    url = url or database_url()
    if url.startswith("sqlite:"):
        from minqing.store.sqlite.store import SQLiteStore

        store = SQLiteStore(url)
    elif url.split(":", 1)[0].split("+", 1)[0] in ("postgresql", "postgres"):
        from minqing.store.postgres.store import PostgresStore

        store = PostgresStore(url)
    else:
        from minqing.privacy import redact_url

        shown = redact_url(url)  # a password in the URL is never echoed
        raise ConfigError(
            f"no store for {shown!r}; this version supports sqlite:/// and postgresql:// URLs",
            key="error.store_unsupported",
            url=shown,
        )
    _register(store)
    return store


def _register(store: Store) -> None:
    """Make the city's own categories known to this process (labels on every page)."""
    from minqing.model import register_categories

    extra = store.city_categories()
    if extra:
        register_categories(extra)


__all__ = ["Store", "TicketFilter", "open_store"]
