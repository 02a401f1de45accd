"""Copy a whole store into an empty one (SQLite to PostGIS and back), and verify the copy.

Everything goes through the :class:`~minqing.store.base.Store` API, so any pair of
backends works: the settings (time zone, city categories), units (every version),
places, tickets with their place links (streamed in windows of received time and
pages of :data:`CHUNK` tickets, so memory stays bounded), interventions with their
targets, accounts (password hashes as they are) and the log tables of
:mod:`minqing.store.logtables` (source hashes, ticket changes, quarantine, import
reports, intervention history, audit log) with their ids and original times.

A unit's ``unit_uid`` is the destination's own; a ticket's ``grid_uid`` is mapped to
it by the unit's (code, valid_from). :func:`verify_copy` compares, table by table,
the row count and a SHA-256 of the canonical rows read from each side (times as epoch
seconds, floats rounded to 1e-7, geometries as WKT, grid_uid as the unit's key).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely

from minqing.citytime import META_KEY as TZ_META_KEY
from minqing.errors import StoreError
from minqing.store.base import Store, TicketFilter
from minqing.store.logtables import LOG_TABLES

__all__ = ["CHUNK", "TableCheck", "check_empty", "copy_store", "format_checks", "nonempty_tables", "verify_copy"]

CHUNK = 50_000
"""Tickets (and log rows) read and written at a time."""
WINDOW = pd.Timedelta(days=31)
"""The span of received time whose tickets and place links are read together."""
META_KEYS = (TZ_META_KEY, "city_categories", "demo_seed", "demo_truth")
"""The settings and markers a copy carries over (``data_version`` is the destination's own)."""
_NA = "\x00"
_SEP = "\x1f"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class TableCheck:
    """One table of a verified copy: its row count and checksum on each side."""

    table: str
    source_rows: int
    copy_rows: int
    source_sum: str
    copy_sum: str

    @property
    def ok(self) -> bool:
        """True when the counts and the checksums agree."""
        return self.source_rows == self.copy_rows and self.source_sum == self.copy_sum


def _quiet(_text: str) -> None:
    pass


# -- what is in a store -------------------------------------------------------------------------
def nonempty_tables(store: Store) -> list[str]:
    """Return the names of the tables of ``store`` that hold rows (settings and vocabularies aside)."""
    found = []
    if store.ticket_count():
        found.append("tickets")
    if len(store.read_units()):
        found.append("units")
    if len(store.read_places()):
        found.append("places")
    if len(store.read_interventions()[0]):
        found.append("interventions")
    if len(store.read_users()):
        found.append("users")
    found += [t for t in LOG_TABLES if next(iter(store.read_rows(t, chunk_rows=1)), None) is not None]
    return found


def check_empty(dest: Store) -> None:
    """Raise :class:`StoreError` (``error.copy_not_empty``) when ``dest`` holds data."""
    full = nonempty_tables(dest)
    if full:
        shown = getattr(dest, "shown_url", None) or _shown(dest.url)
        raise StoreError(f"the destination store {shown} is not empty ({', '.join(full)}); "
                         "copy into a new, empty store", key="error.copy_not_empty", url=shown, tables=", ".join(full))


def _windows(store: Store) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Consecutive [start, end) spans of :data:`WINDOW` covering every received time of ``store``."""
    first, last = store.received_range()
    if first is None:
        return []
    edges = list(pd.date_range(first, last, freq=WINDOW)) + [last + pd.Timedelta(seconds=1)]
    return list(itertools.pairwise(edges))


def _ticket_pages(store: Store, windows, chunk: int) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """Yield (tickets, their place links) of ``store``, window by window and page by page, in read order."""
    for start, end in windows:
        links = store.read_ticket_places_where(TicketFilter(start=start, end=end))
        offset = 0
        while True:
            page = store.read_tickets(TicketFilter(start=start, end=end, limit=chunk, offset=offset))
            if page.empty:
                break
            yield page, links[links["source_id"].isin(page["source_id"])]
            offset += len(page)
            if len(page) < chunk:
                break


def _unit_keys(units: pd.DataFrame) -> pd.Series:
    """The stable key of each unit version, ``code@valid_from``, indexed by the store's ``unit_uid``."""
    return pd.Series((units["code"].astype(str) + "@" + units["valid_from"].astype(str)).to_numpy(),
                     index=units["unit_uid"].astype("int64").to_numpy())


# -- the copy --------------------------------------------------------------------------------------
def copy_store(source: Store, dest: Store, chunk: int = CHUNK, progress: Progress = _quiet) -> dict[str, int]:
    """Copy everything in ``source`` into the empty store ``dest``; return the rows copied per table.

    Raises
    ------
    StoreError
        When ``dest`` already holds data (nothing is written then).
    """
    check_empty(dest)
    counts: dict[str, int] = {}
    for key in META_KEYS:
        value = source.get_meta(key)
        if value is not None:
            dest.set_meta(key, value)
    uid_map = _copy_units(source, dest)
    counts["units"] = len(uid_map) if uid_map is not None else 0
    places = source.read_places()
    if len(places):
        dest.write_places(places)
    counts["places"] = len(places)
    progress(f"units {counts['units']}, places {counts['places']}")
    counts["tickets"], counts["ticket_places"] = _copy_tickets(source, dest, uid_map, chunk, progress)
    interventions, targets = source.read_interventions()
    if len(interventions):
        dest.write_interventions(interventions, targets)
    counts["interventions"], counts["intervention_targets"] = len(interventions), len(targets)
    users = source.read_users()
    for row in users.to_dict("records"):
        dest.write_user({k: (None if _missing(v) else v) for k, v in row.items()})
    counts["users"] = len(users)
    for table in LOG_TABLES:
        counts[table] = sum(dest.append_rows(table, rows) for rows in source.read_rows(table, chunk_rows=chunk))
        progress(f"{table} {counts[table]}")
    return counts


def _missing(value) -> bool:
    return value is None or (not isinstance(value, (str, list, tuple, dict)) and bool(pd.isna(value)))


def _shown(url: str) -> str:
    from minqing.privacy import redact_url

    return redact_url(url)


def _copy_units(source: Store, dest: Store) -> pd.Series | None:
    """Copy every unit version (in the source's uid order); return source uid -> destination uid, None if no unit."""
    units = source.read_units()
    if not len(units):
        return None
    units = units.sort_values("unit_uid", ignore_index=True)
    dest.write_units(units.drop(columns="unit_uid"))
    theirs = _unit_keys(dest.read_units())
    by_key = pd.Series(theirs.index, index=theirs.to_numpy())
    return pd.Series(by_key.loc[_unit_keys(units).to_numpy()].to_numpy(), index=units["unit_uid"].astype("int64"))


def _copy_tickets(source: Store, dest: Store, uid_map: pd.Series | None, chunk: int,
                  progress: Progress) -> tuple[int, int]:
    """Copy the tickets and their place links page by page; return both counts."""
    total = source.ticket_count()
    same = uid_map is None or bool((uid_map.index == uid_map.to_numpy()).all())
    tickets = links = 0
    for page, page_links in _ticket_pages(source, _windows(source), chunk):
        if not same:
            page = page.assign(grid_uid=page["grid_uid"].map(uid_map).astype("Int64"))
        dest.write_tickets(page, page_links)
        tickets += len(page)
        links += len(page_links)
        progress(f"tickets {tickets:,} / {total:,}")
    return tickets, links


# -- the verification ----------------------------------------------------------------------------
def _canonical(frame: pd.DataFrame, unit_keys: pd.Series | None = None) -> pd.Series:
    """One text per row: every column (by name) in a canonical form; missing values as one marker."""
    parts = []
    for name in sorted(frame.columns):
        s = frame[name]
        if name == "grid_uid" and unit_keys is not None:
            s = s.astype("Int64").map(unit_keys)
        if name == "geometry":
            geoms = np.asarray(s, dtype=object)  # a one-part multi-geometry is its part (PostGIS stores units as multi)
            single = (shapely.get_num_geometries(geoms) == 1) & np.isin(shapely.get_type_id(geoms), [4, 5, 6])
            geoms = np.where(single, shapely.get_geometry(geoms, 0), geoms)
            text = pd.Series(shapely.to_wkt(geoms, rounding_precision=7, trim=True), index=frame.index)
        elif isinstance(s.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(s.dtype):
            utc = s.dt.tz_convert("UTC") if s.dt.tz is not None else s.dt.tz_localize("UTC")
            secs = (utc - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)
            text = secs.astype("Int64").astype(str).where(s.notna(), _NA)
        elif pd.api.types.is_float_dtype(s.dtype):
            text = s.round(7).map("{:.7f}".format).where(s.notna(), _NA)
        elif pd.api.types.is_bool_dtype(s.dtype):
            text = s.astype("Int64").astype(str).where(s.notna(), _NA)
        else:
            text = s.astype(object).map(str).where(s.notna(), _NA)
        parts.append(text.astype(str))
    if not parts:
        return pd.Series([], dtype=str)
    out = parts[0]
    for p in parts[1:]:
        out = out + _SEP + p
    return out


class _Digest:
    """A row count and a SHA-256 over canonical rows fed in order."""

    def __init__(self):
        self.rows = 0
        self._sha = hashlib.sha256()

    def add(self, frame: pd.DataFrame, unit_keys: pd.Series | None = None) -> None:
        if frame is None or not len(frame):
            return
        self.rows += len(frame)
        self._sha.update(("\n".join(_canonical(frame, unit_keys)) + "\n").encode("utf-8"))

    @property
    def hex(self) -> str:
        return self._sha.hexdigest()


def _sorted(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    return frame.sort_values(by, ignore_index=True, kind="stable") if len(frame) else frame


def _summarise(store: Store, windows, chunk: int = CHUNK) -> dict[str, _Digest]:
    """Return the digest of every table of ``store`` (tickets and links over ``windows``)."""
    out: dict[str, _Digest] = {name: _Digest() for name in (
        "meta", "units", "places", "tickets", "ticket_places", "interventions", "intervention_targets", "users",
        *LOG_TABLES)}
    meta = [(k, store.get_meta(k)) for k in META_KEYS if store.get_meta(k) is not None]
    out["meta"].add(pd.DataFrame(meta, columns=["key", "value"]))
    units = store.read_units()
    out["units"].add(_sorted(pd.DataFrame(units.drop(columns="unit_uid")), ["level", "code", "valid_from"]))
    out["places"].add(_sorted(pd.DataFrame(store.read_places()), ["place_id"]))
    keys = _unit_keys(units)
    for page, links in _ticket_pages(store, windows, chunk):
        out["tickets"].add(page, keys)
        out["ticket_places"].add(_sorted(links.reset_index(drop=True), ["source_id", "place_id"]))
    interventions, targets = store.read_interventions()
    out["interventions"].add(_sorted(interventions, ["intervention_id"]))
    out["intervention_targets"].add(_sorted(targets, ["intervention_id", "target_type", "target_id"]))
    out["users"].add(store.read_users())
    for table in LOG_TABLES:
        for rows in store.read_rows(table, chunk_rows=chunk):
            out[table].add(rows)
    return out


def verify_copy(source: Store, dest: Store, chunk: int = CHUNK, progress: Progress = _quiet) -> list[TableCheck]:
    """Compare every table of ``source`` and ``dest`` by row count and checksum; return one check per table.

    Tickets and place links are read over the source's windows of received time on
    both sides; a ticket of ``dest`` outside them still shows in the ticket count.
    """
    windows = _windows(source)
    progress("checking the source")
    theirs = _summarise(source, windows, chunk)
    progress("checking the copy")
    ours = _summarise(dest, windows, chunk)
    checks = []
    for table, digest in theirs.items():
        got = ours[table]
        copy_rows = dest.ticket_count() if table == "tickets" else got.rows
        source_rows = source.ticket_count() if table == "tickets" else digest.rows
        checks.append(TableCheck(table, source_rows, copy_rows, digest.hex, got.hex))
    return checks


def format_checks(checks: Iterable[TableCheck]) -> str:
    """The checks as a table: table, source rows, copy rows, OK or MISMATCH."""
    lines = [f"{'table':<22} {'source':>12} {'copy':>12}  check"]
    for c in checks:
        lines.append(f"{c.table:<22} {c.source_rows:>12,} {c.copy_rows:>12,}  {'OK' if c.ok else 'MISMATCH'}")
    return "\n".join(lines)
