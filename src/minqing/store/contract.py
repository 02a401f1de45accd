"""The storage contract: what every read of a :class:`~minqing.store.base.Store` returns.

A backend (the embedded SQLite store, the PostgreSQL + PostGIS store) is correct when
its frames follow these conventions and its aggregates equal the pandas reference
of :mod:`minqing.store.reference`; ``tests/store/test_contract.py`` checks both for
every backend. The conventions are written down here once; :data:`CONTRACT` lists
each read method's columns (in order) with their kind, and :func:`violations` checks
a frame against it.

Kinds of columns and how a missing value looks
----------------------------------------------
``time``
    Timezone-aware ``datetime64`` in the city's zone (:attr:`Store.timezone`),
    never naive, never UTC; missing is ``NaT``. Stores keep UTC epoch seconds
    (:mod:`minqing.store.convert`), so changing the zone moves local days, not instants.
``text``
    Python ``str`` values in pandas' default string dtype (``str``); missing is
    NaN/None (test with :func:`pandas.isna`), never ``""``, ``"nan"`` or another
    stand-in. Outside the frames of :data:`TYPED`, a column with no value at all may
    come back as ``object``: pandas cannot infer a string type from no string.
    Codes are those of :mod:`minqing.model`; dates (``valid_from``, ``start_date``)
    are ``"YYYY-MM-DD"`` text; some text holds JSON (noted below).
``int64``
    Integers that are never missing (counts, row ids).
``Int64``
    Integers that may be missing, as pandas' nullable ``Int64`` with ``<NA>``:
    ``grid_uid`` and ``h3_cell`` of an unlocated ticket, a unit's unknown
    ``population``, an audit row's ``rows``. Never ``-1``, never float (a 64-bit
    H3 cell does not survive float64). Consumers that want a sentinel make it
    themselves (``s.to_numpy(dtype="int64", na_value=-1)``).
``float64``
    Real numbers, missing is NaN (``lon``/``lat`` of an unlocated ticket, a place's
    ``radius_m`` or ``buffer_m`` when it has none).
``bool``
    Flags, never missing.
``geometry``
    Shapely geometries of a GeoDataFrame in EPSG:4326.

Rules every method keeps
------------------------
- The columns are exactly those listed, in that order (``read_tickets`` with
  ``TicketFilter.columns``: those columns, in the order asked).
- An empty read has the listed columns; their dtypes may be ``object`` (time
  columns excepted), as pandas infers nothing from no row, except in the frames of
  :data:`TYPED`: ticket reads (a store passes them through
  :func:`minqing.store.convert.ticket_frame`) and aggregates keep their dtypes always.
- Reads are ordered as their docstrings in :class:`~minqing.store.base.Store` say;
  ``read_ticket_places_where`` and ``read_effect_tickets`` in no particular order.
- A filter's conditions (:class:`~minqing.store.base.TicketFilter`) select tickets
  the same way in every method; ``columns``, ``limit``, ``offset`` and
  ``newest_first`` only shape ``read_tickets``.
- Aggregates (``count_tickets``, ``kpi_counts``, ``problem_counts``, ``top_problem_counts``)
  have one row per group that has tickets, key columns of kind ``text`` in the ``str`` dtype
  even when empty (missing keys: NaN), counts ``int64``; each equals its reference in
  :mod:`minqing.store.reference` to the dtype (``pandas.testing.assert_frame_equal``
  after sorting by the keys).

Aggregates are what the dashboard reads instead of tickets: KPI numerators and
denominators per month (``kpi_counts``), tickets and problems per month x place or
grid x category (x channel) (``problem_counts``; of the month's top problems only, at a
category level, with the month's typical channel shares: ``top_problem_counts``) and tickets
per unit (x channel) (``count_tickets``). Counts by H3 cell, by place and month for the hot-spot pages are
computed by :func:`minqing.analysis.aggregate.count_tickets` over ``read_tickets``
(those pages need the period's tickets anyway); no backend implements them.
"""

from __future__ import annotations

import pandas as pd

from minqing.analysis.kpis import COUNT_COLUMNS
from minqing.model import (
    INTERVENTION_COLUMNS,
    PLACE_COLUMNS,
    TICKET_COLUMNS,
    TICKET_TIME_COLUMNS,
    UNIT_COLUMNS,
)
from minqing.store.convert import NULLABLE_INT_COLUMNS

TIME, TEXT, INT, NULLABLE_INT, FLOAT, BOOL, GEOMETRY = "time", "text", "int64", "Int64", "float64", "bool", "geometry"
KINDS = (TIME, TEXT, INT, NULLABLE_INT, FLOAT, BOOL, GEOMETRY)
"""The kinds of column of the contract (see the module notes)."""

AGGREGATES = ("count_tickets", "count_tickets_by_channel", "kpi_counts", "problem_counts", "problem_counts_by_channel",
              "top_problem_counts", "top_problem_typical")
"""The entries of :data:`CONTRACT` that are aggregates."""
TYPED = AGGREGATES + ("read_tickets", "read_tickets_by_ids", "read_effect_tickets")
"""The entries of :data:`CONTRACT` whose dtypes hold always, when a column has no value or the frame no row too."""

EFFECT_TICKET_COLUMNS = ("source_id", "received_at", "channel", "kind", "category", "satisfaction", "lon", "lat",
                         "h3_cell", "grid_code", "repeat_of")
"""The ticket columns ``Store.read_effect_tickets`` returns (what intervention evaluations need)."""


def _ticket_kind(column: str) -> str:
    if column in TICKET_TIME_COLUMNS:
        return TIME
    if column in NULLABLE_INT_COLUMNS:
        return NULLABLE_INT
    return FLOAT if column in ("lon", "lat") else TEXT


TICKETS = {c: _ticket_kind(c) for c in TICKET_COLUMNS}
"""``read_tickets``: every ticket column. Missing: a ticket not linked to a unit has no
``*_code`` (text NaN) and ``grid_uid`` ``<NA>``; an unlocated one also has NaN
``lon``/``lat`` and ``h3_cell`` ``<NA>``; times not reached yet (``closed_at`` of an
open ticket) are NaT; ``resolved``/``satisfaction`` are missing when not followed up
or rated; ``repeat_of`` is missing unless the ticket repeats another; ``extra`` is JSON."""
LINKS = {"source_id": TEXT, "place_id": TEXT}
"""(ticket, place) links: a ticket at two places has two rows; nothing is missing."""

CONTRACT: dict[str, dict[str, str]] = {
    # units: parent_code missing at the top level; valid_to missing while valid; population <NA> when unknown
    "read_units": {"unit_uid": INT, **{c: NULLABLE_INT if c == "population" else TEXT for c in UNIT_COLUMNS},
                   "geometry": GEOMETRY},
    # places: radius_m / buffer_m NaN when the place has none
    "read_places": {**{c: FLOAT if c in ("radius_m", "buffer_m") else BOOL if c == "synthetic" else TEXT
                       for c in PLACE_COLUMNS}, "geometry": GEOMETRY},
    "read_tickets": TICKETS,
    "read_tickets_by_ids": TICKETS,
    "read_ticket_places": LINKS,
    "read_ticket_places_where": LINKS,
    # code missing: the tickets linked to no unit of the level
    "count_tickets": {"code": TEXT, "tickets": INT},
    "count_tickets_by_channel": {"code": TEXT, "channel": TEXT, "tickets": INT},
    "kpi_counts": {"month": TEXT, **{c: INT for c in COUNT_COLUMNS}},
    # place_id missing: the row groups a grid's tickets linked to no place; grid_code missing: a place's row
    "problem_counts": {"month": TEXT, "place_id": TEXT, "grid_code": TEXT, "category": TEXT, "tickets": INT,
                       "problems": INT},
    "problem_counts_by_channel": {"month": TEXT, "place_id": TEXT, "grid_code": TEXT, "category": TEXT,
                                  "channel": TEXT, "tickets": INT, "problems": INT},
    # the top problems' rows of problem_counts_by_channel at a category level, and the month's typical shares
    "top_problem_counts": {"month": TEXT, "place_id": TEXT, "grid_code": TEXT, "category": TEXT, "channel": TEXT,
                           "tickets": INT, "problems": INT},
    "top_problem_typical": {"channel": TEXT, "share_typical": FLOAT},
    "read_effect_tickets": {c: TICKETS[c] for c in EFFECT_TICKET_COLUMNS},
    "read_effect_links": LINKS,
    # interventions: end_date / implementation_end missing while open; target_categories is a JSON list
    "read_interventions": {c: INT if c == "intervention_id" else TEXT for c in INTERVENTION_COLUMNS},
    "read_intervention_targets": {"intervention_id": INT, "target_type": TEXT, "target_id": TEXT},
    # changed_by missing when nobody signed in; change is JSON of the fields before and after
    "read_intervention_history": {"intervention_id": INT, "changed_at": TIME, "changed_by": TEXT, "change": TEXT},
    # accounts: grid_codes / community_codes are JSON lists; times NaT until they happen
    "read_users": {"name": TEXT, "role": TEXT, "grid_codes": TEXT, "community_codes": TEXT, "password_hash": TEXT,
                   "disabled": BOOL, "failed_count": INT, "locked_until": TIME, "password_changed_at": TIME,
                   "created_at": TIME, "last_sign_in_at": TIME},
    # audit: target, detail missing when the action has none; rows / masked <NA> when not counted
    "read_audit": {"id": INT, "at": TIME, "actor": TEXT, "action": TEXT, "target": TEXT, "rows": NULLABLE_INT,
                   "masked": NULLABLE_INT, "detail": TEXT},
    # quarantine: source_id missing when the row had none; original is JSON; resolved_by missing while unresolved
    "read_quarantine": {"quarantine_id": INT, "import_id": TEXT, "file_name": TEXT, "row_number": INT,
                        "source_id": TEXT, "reason": TEXT, "detail": TEXT, "original": TEXT, "quarantined_at": TIME,
                        "resolved_by": TEXT},
    # changes: old_value / new_value missing when the field was / became empty
    "read_ticket_changes": {"source_id": TEXT, "import_id": TEXT, "changed_at": TIME, "field": TEXT,
                            "old_value": TEXT, "new_value": TEXT},
}
"""Each frame a read returns: its columns in order, with their kind. Methods that return
two frames have one entry per frame (``read_interventions`` / ``read_intervention_targets``,
``read_effect_tickets`` / ``read_effect_links``, ``top_problem_counts`` / ``top_problem_typical``);
``by_channel`` variants have their own.
Not frames: ``read_source_hashes`` (an int64 Series of row hashes indexed by ``source_id``,
0 for a ticket stored without a source row), ``read_import_reports`` (a list of report
dicts, newest first), ``received_range`` ((first, last) times or (None, None)),
``count_where`` / ``ticket_count`` (int)."""


def _kind_ok(s: pd.Series, kind: str, tz: str, typed: bool) -> bool:
    dtype = s.dtype
    if kind == TIME:
        return isinstance(dtype, pd.DatetimeTZDtype) and str(dtype.tz) == tz
    if kind == TEXT:
        if pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
            return True
        return not typed and pd.api.types.is_object_dtype(dtype) and all(isinstance(v, str) or pd.isna(v) for v in s)
    if kind == GEOMETRY:
        return str(dtype) == "geometry"
    return str(dtype) == kind


def violations(frame: pd.DataFrame, method: str, tz: str, columns=None) -> list[str]:
    """Return how ``frame``, as read by ``method``, breaks the contract (empty when it keeps it).

    Parameters
    ----------
    frame : DataFrame
    method : str
        A key of :data:`CONTRACT`.
    tz : str
        The store's time zone (times must be in it).
    columns : sequence of str, optional
        The columns asked for (``TicketFilter.columns``); all of the method's by default.
    """
    spec = CONTRACT[method]
    expected = list(columns) if columns else list(spec)
    found = []
    if list(frame.columns) != expected:
        found.append(f"{method}: columns {list(frame.columns)}, expected {expected}")
    typed = method in TYPED
    for c in expected:
        if c not in frame.columns:
            continue
        s, kind = frame[c], spec[c]
        if not typed and len(frame) == 0 and kind != TIME and pd.api.types.is_object_dtype(s.dtype):
            continue
        if not _kind_ok(s, kind, tz, typed):
            found.append(f"{method}.{c}: dtype {s.dtype}, expected {kind}" + (f" in {tz}" if kind == TIME else ""))
        elif kind == NULLABLE_INT and (s.dropna() < 0).any():
            found.append(f"{method}.{c}: a negative stand-in for a missing value; missing is <NA>")
    return found
