"""The store interface every backend implements.

Every method a backend must provide is abstract, so an unfinished backend cannot be
instantiated. What the reads return (columns, dtypes, missing values) is the contract
of :mod:`minqing.store.contract`; what the aggregates return is defined by their pandas
reference in :mod:`minqing.store.reference`. The few concrete methods here (time zone,
city categories, data version) are built on :meth:`Store.get_meta` / :meth:`Store.set_meta`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd

from minqing.citytime import META_KEY as TZ_META_KEY
from minqing.citytime import check_timezone, store_timezone
from minqing.store.staging import ImportStage


@dataclass(frozen=True)
class TicketFilter:
    """Which tickets to read.

    Attributes
    ----------
    start, end : str or Timestamp, optional
        Received-time range, start inclusive, end exclusive (local time).
    unit_level, unit_codes : optional
        Restrict to tickets linked to these units of one level
        ("district", "subdistrict", "community" or "grid"). This is the
        data-layer scope a grid leader's view goes through.
    categories : tuple of str, optional
        Category codes at any level; a code matches itself and its descendants.
    channels, kinds, statuses, satisfactions : tuple of str, optional
        Exact codes to keep.
    place_ids : tuple of str, optional
        Keep tickets linked to any of these places.
    search : str, optional
        Substring of the source id, text or address.
    scope_grid_codes, scope_community_codes : tuple of str, optional
        The grids and communities a user may see; a ticket in either is in scope.
        Applied on top of every other condition (see :func:`minqing.auth.scoped_filter`).
    columns : tuple of str, optional
        Columns to read; all when omitted.
    limit, offset : int, optional
        A page of the result (newest first when ``newest_first``).
    newest_first : bool
        Order by received time descending instead of ascending.
    """

    start: object = None
    end: object = None
    unit_level: str | None = None
    unit_codes: tuple[str, ...] | None = None
    categories: tuple[str, ...] | None = None
    channels: tuple[str, ...] | None = None
    kinds: tuple[str, ...] | None = None
    statuses: tuple[str, ...] | None = None
    satisfactions: tuple[str, ...] | None = None
    place_ids: tuple[str, ...] | None = None
    search: str | None = None
    scope_grid_codes: tuple[str, ...] | None = None
    scope_community_codes: tuple[str, ...] | None = None
    columns: tuple[str, ...] | None = None
    limit: int | None = None
    offset: int = 0
    newest_first: bool = False


class Store(ABC):
    """One place where units, places, tickets and interventions live.

    Every write is one transaction. Implementations: :class:`SQLiteStore`
    (embedded default) and :class:`~minqing.store.postgres.store.PostgresStore` (PostgreSQL + PostGIS).
    """

    url: str

    @abstractmethod
    def schema_version(self) -> int:
        """Return the schema version the store is at."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection."""

    def scoped(self, grid_codes: tuple[str, ...] | None, community_codes: tuple[str, ...] = ()) -> Store:
        """Return a view of this store whose reads the backend itself limits to the tickets of ``grid_codes``.

        A capability, not part of the data contract: a backend with a server-side policy
        (PostgreSQL's row-level security) returns a view on the same connections that
        enforces the scope on the server too, so a grid leader's reads are limited twice
        (here and by :func:`minqing.auth.scoped_filter`). The default returns ``self``: the
        backend has no such policy (SQLite), and the filter alone does the limiting.

        Parameters
        ----------
        grid_codes : tuple of str or None
            The grids the view may see; ``None`` for every grid (whole-district roles, imports).
        community_codes : tuple of str
            Communities whose tickets the view sees too, also those linked to no grid.
        """
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- metadata ---------------------------------------------------------------
    @abstractmethod
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        """Return a stored setting or marker."""

    @abstractmethod
    def set_meta(self, key: str, value: str) -> None:
        """Store a setting or marker."""

    @property
    def timezone(self) -> str:
        """The city's time zone (IANA name, default Asia/Shanghai): days, months, exports and display use it."""
        return store_timezone(self)

    def set_timezone(self, tz: str) -> str:
        """Set the city's time zone (stored instants do not move; their local day and month do).

        Raises
        ------
        TimezoneError
            When ``tz`` is not an IANA time zone name.
        """
        tz = check_timezone(tz)
        self.set_meta(TZ_META_KEY, tz)
        return tz

    def city_categories(self) -> dict:
        """The city's own categories, ``{code: {"zh": ..., "en": ...}}`` (added by imports' value maps)."""
        import json

        return json.loads(self.get_meta("city_categories") or "{}")

    def add_city_categories(self, extra: dict) -> list[str]:
        """Keep new categories with the store and register them in this process; return the codes added."""
        import json

        from minqing.model import register_categories

        if not extra:
            return []
        merged = {**self.city_categories(), **{k: {"zh": v.get("zh"), "en": v.get("en")} for k, v in extra.items()}}
        added = register_categories(merged)
        self.set_meta("city_categories", json.dumps(merged, ensure_ascii=False, sort_keys=True))
        return added

    def data_version(self) -> str:
        """Return a token that changes with every write (for UI caches)."""
        return self.get_meta("data_version", "0") or "0"

    # -- units and places ----------------------------------------------------------
    @abstractmethod
    def write_units(self, units: gpd.GeoDataFrame) -> int:
        """Insert or replace unit versions keyed by (code, valid_from); return the count."""

    @abstractmethod
    def read_units(self, level: str | None = None, at: str | None = None) -> gpd.GeoDataFrame:
        """Return units (all versions, or those valid on date ``at``) with ``unit_uid``."""

    @abstractmethod
    def write_places(self, places: gpd.GeoDataFrame) -> int:
        """Insert or replace places keyed by ``place_id``; return the count."""

    @abstractmethod
    def read_places(self) -> gpd.GeoDataFrame:
        """Return all places."""

    # -- tickets ----------------------------------------------------------------------
    @abstractmethod
    def write_tickets(self, tickets: pd.DataFrame, place_links: pd.DataFrame | None = None) -> int:
        """Insert or update tickets by ``source_id`` and replace their place links."""

    @abstractmethod
    def read_tickets(self, where: TicketFilter | None = None) -> pd.DataFrame:
        """Return tickets matching ``where`` with times as local timestamps.

        Ordered by received time and source id (descending with ``newest_first``); the
        columns and their missing values are :data:`minqing.store.contract.TICKETS`.
        """

    @abstractmethod
    def count_where(self, where: TicketFilter | None = None) -> int:
        """Return the number of tickets matching ``where`` (ignoring limit and offset)."""

    @abstractmethod
    def read_ticket_places(self, place_ids: list[str] | None = None) -> pd.DataFrame:
        """Return (source_id, place_id) links (of these places, or all), ordered by source_id, place_id."""

    @abstractmethod
    def read_ticket_places_where(self, where: TicketFilter | None = None) -> pd.DataFrame:
        """Return (source_id, place_id) links of the tickets matching ``where``, in no particular order.

        Reference: :func:`minqing.store.reference.ticket_places_where`.
        """

    @abstractmethod
    def count_tickets(self, level: str, where: TicketFilter | None = None, by_channel: bool = False) -> pd.DataFrame:
        """Return ticket counts per unit code of ``level`` as columns (code, tickets).

        With ``by_channel`` one row per unit and channel: (code, channel, tickets).
        ``where.channels`` restricts the channels counted; ``code`` is missing for the
        tickets linked to no unit of ``level``. Reference:
        :func:`minqing.store.reference.count_tickets`.
        """

    @abstractmethod
    def received_range(self) -> tuple:
        """Return the (first, last) received time as local timestamps, or (None, None)."""

    @abstractmethod
    def ticket_count(self) -> int:
        """Return the number of stored tickets."""

    # -- the dashboard's aggregates (references: minqing.store.reference) -------------------
    @abstractmethod
    def kpi_counts(self, where: TicketFilter | None, as_of) -> pd.DataFrame:
        """Return KPI numerators and denominators per month of the tickets matching ``where``.

        ``month`` ("YYYY-MM", local) and :data:`minqing.analysis.kpis.COUNT_COLUMNS`
        (int64), one row per month with tickets; what is due is judged at ``as_of``
        (naive: local). Reference: :func:`minqing.store.reference.kpi_counts`.
        """

    @abstractmethod
    def problem_counts(self, where: TicketFilter | None = None, by_channel: bool = False) -> pd.DataFrame:
        """Return tickets and problems per month x (place or grid) x full category.

        Regroup with :func:`minqing.analysis.top_problems.roll_up`. With ``by_channel``
        also per channel (a ``channel`` column). Reference:
        :func:`minqing.store.reference.problem_counts`.
        """

    @abstractmethod
    def top_problem_counts(self, where: TicketFilter | None, month, level: int = 2,
                           n: int = 10) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Return what the top ``n`` problems of ``month`` need: their rows, and the month's typical channel shares.

        The meeting view's top 10 without every row of ``problem_counts``: ranked, and rolled up to
        category ``level``, by the backend. :func:`minqing.analysis.top_problems.top_problems` of the
        rows, given the shares (``typical``), equals ``top_problems`` of
        ``roll_up(problem_counts(where, by_channel=True), level)``.

        Parameters
        ----------
        where : TicketFilter or None
            The tickets (the meeting view: ``month`` and the three months before it).
        month : str or Timestamp
            The month ranked ("YYYY-MM").
        level : {1, 2, 3}
            The category level of a problem (2 = 中类).
        n : int
            How many problems.

        Returns
        -------
        (DataFrame, DataFrame)
            The rows of ``roll_up(problem_counts(where, by_channel=True), level)`` (every month of
            ``where``) of the ``n`` problems with most tickets in ``month``, in no particular order;
            and (channel, share_typical): each channel's median share over the month's problems.
            Reference: :func:`minqing.store.reference.top_problem_counts`.
        """

    # -- interventions -------------------------------------------------------------
    @abstractmethod
    def write_interventions(self, interventions: pd.DataFrame, targets: pd.DataFrame) -> int:
        """Insert or replace interventions and their targets; return the count."""

    @abstractmethod
    def read_interventions(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Return (interventions, targets)."""

    @abstractmethod
    def save_intervention(self, intervention: dict, targets: pd.DataFrame, changed_by: str | None,
                          change: str) -> int:
        """Insert or update one intervention, its targets and one history row in one transaction.

        ``intervention["intervention_id"]`` None inserts with a new id. Returns the id.
        """

    @abstractmethod
    def read_intervention_history(self, intervention_id: int | None = None) -> pd.DataFrame:
        """Return (intervention_id, changed_at, changed_by, change) rows, oldest first."""

    @abstractmethod
    def read_effect_tickets(self, categories: tuple[str, ...] | None, start) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Return (tickets, place links) received from ``start`` in the exact ``categories`` (all when None).

        Tickets have :data:`minqing.store.contract.EFFECT_TICKET_COLUMNS` (source_id,
        received_at (local), channel, kind, category, satisfaction, lon, lat, h3_cell,
        grid_code, repeat_of) with the types of ``read_tickets``. Reference:
        :func:`minqing.store.reference.effect_tickets`.
        """

    # -- accounts and the audit log (minqing.accounts; not ticket data: no data_version bump) --
    @abstractmethod
    def read_users(self, name: str | None = None) -> pd.DataFrame:
        """Return every account (or the one named ``name``) with all its columns, ``password_hash``
        included, ordered by name.

        Times (``locked_until``, ``password_changed_at``, ``created_at``,
        ``last_sign_in_at``) come back as local timestamps. Only
        :mod:`minqing.accounts` needs the hash; never show or log it.
        """

    @abstractmethod
    def write_user(self, row: dict) -> None:
        """Insert or replace one account (keys: the ``users`` columns; times as epoch seconds or timestamps)."""

    @abstractmethod
    def update_user(self, name: str, **fields) -> None:
        """Set ``fields`` (``users`` columns) of the account ``name`` in one transaction."""

    @abstractmethod
    def write_audit(self, row: dict) -> None:
        """Append one audit row (keys: at, actor, action, target, rows, masked, detail)."""

    @abstractmethod
    def read_audit(self, limit: int | None = 1000, actor: str | None = None, action: str | None = None,
                   since=None) -> pd.DataFrame:
        """Return audit rows, newest first, with ``at`` as a local timestamp.

        Parameters
        ----------
        limit : int or None, default 1000
            At most this many rows (None: all).
        actor, action : str, optional
            Keep only rows of this actor / action.
        since : str or Timestamp, optional
            Keep only rows at or after this time (naive times are local).
        """

    # -- imports (minqing.ingest) -------------------------------------------------------
    @abstractmethod
    def read_source_hashes(self) -> pd.Series:
        """Return the stored source-row hash of every ticket (index ``source_id``)."""

    @abstractmethod
    def read_tickets_by_ids(self, source_ids) -> pd.DataFrame:
        """Return the stored tickets with these source ids."""

    @abstractmethod
    def import_lock(self, holder: str = "", wait: float = 600.0, on_wait=None):
        """Context manager: hold the store's import lock (one import at a time, across processes).

        Raises ``ImportBusyError`` when another import still holds it after ``wait`` seconds.
        """

    @abstractmethod
    def begin_import(self) -> ImportStage:
        """Open a staging session for one import (in the importing process, before workers are forked).

        Use it as ``with store.begin_import() as stage: stage.add(...) ... stage.commit(report)``;
        see :mod:`minqing.store.staging` for what each method receives and which process
        may call it. Nothing reaches the store before :meth:`ImportStage.commit`.

        Raises
        ------
        minqing.errors.IngestError
            When the staging area (e.g. the temporary folder) cannot be created.
        """

    @abstractmethod
    def read_quarantine(self, import_id: str | None = None, include_resolved: bool = False) -> pd.DataFrame:
        """Return quarantined rows with their original row and reason."""

    @abstractmethod
    def read_import_reports(self, limit: int = 50) -> list[dict]:
        """Return stored import reports, newest first."""

    @abstractmethod
    def read_ticket_changes(self, source_id: str | None = None) -> pd.DataFrame:
        """Return the recorded changes of tickets updated by later imports."""

    # -- log tables as rows (minqing.store.logtables; a store copy) ------------------------
    @abstractmethod
    def read_rows(self, table: str, chunk_rows: int = 50_000):
        """Yield the rows of the log table ``table`` as DataFrames of at most ``chunk_rows`` rows.

        Every column of :data:`minqing.store.logtables.LOG_TABLES` in the order the rows
        were written (``ticket_sources`` by source id), times as epoch seconds, flags as 0/1.
        """

    @abstractmethod
    def append_rows(self, table: str, rows: pd.DataFrame) -> int:
        """Append rows of :meth:`read_rows`'s shape to the log table ``table``, ids and times as they are; return the count."""

    @abstractmethod
    def write_relinked(self, links: pd.DataFrame, place_links: pd.DataFrame) -> int:
        """Replace the link columns and place links of stored tickets."""
