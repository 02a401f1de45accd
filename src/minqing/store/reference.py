"""Reference implementations, in pandas, of what a store computes in its own language.

Each function takes the frames ``Store.read_tickets`` and ``Store.read_ticket_places``
return (:func:`ticket_frames` reads them) and returns exactly the frame one
:class:`~minqing.store.base.Store` method must return, dtypes included (see
:mod:`minqing.store.contract`). A backend computes the same in SQL so that the
dashboard never loads every ticket; ``tests/store/test_contract.py`` checks that it
does. The rules are not written again here: KPIs are those of
:mod:`minqing.analysis.kpis`, problems those of :mod:`minqing.analysis.top_problems`.

=====================  =========================================
Store method           reference
=====================  =========================================
``count_tickets``      :func:`count_tickets`
``kpi_counts``         :func:`kpi_counts`
``problem_counts``     :func:`problem_counts`
``top_problem_counts``  :func:`top_problem_counts`
``read_effect_tickets``  :func:`effect_tickets`
``read_ticket_places_where``  :func:`ticket_places_where`
=====================  =========================================
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from minqing.analysis import kpis, top_problems
from minqing.citytime import localize
from minqing.store.base import Store, TicketFilter
from minqing.store.contract import EFFECT_TICKET_COLUMNS


def ticket_frames(store: Store, where: TicketFilter | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the tickets matching ``where`` (every column, no page) and their (source_id, place_id) links."""
    where = replace(where or TicketFilter(), columns=None, limit=None, offset=0, newest_first=False)
    tickets = store.read_tickets(where)
    return tickets, ticket_places_where(tickets, store.read_ticket_places())


def _text_keys(df: pd.DataFrame, keys) -> pd.DataFrame:
    """Key columns of an aggregate in the contract's text dtype (``str``, missing NaN), even when empty."""
    return df.astype({k: "str" for k in keys})


def count_tickets(tickets: pd.DataFrame, level: str, by_channel: bool = False) -> pd.DataFrame:
    """``Store.count_tickets``: tickets per ``level`` unit code (and channel), tickets linked to none included.

    Returns
    -------
    DataFrame
        ``code`` (NaN for the tickets with no unit of ``level``), ``channel`` with
        ``by_channel``, ``tickets`` (int64); one row per group that has tickets.
    """
    keys = [f"{level}_code"] + (["channel"] if by_channel else [])
    out = tickets.groupby(keys, dropna=False, sort=True).size().reset_index(name="tickets")
    out = out.rename(columns={f"{level}_code": "code"})
    out["tickets"] = out["tickets"].astype("int64")
    return _text_keys(out, ["code"] + keys[1:])


def kpi_counts(tickets: pd.DataFrame, as_of) -> pd.DataFrame:
    """``Store.kpi_counts``: KPI numerators and denominators per month (:func:`minqing.analysis.kpis.kpi_counts`)."""
    return _text_keys(kpis.kpi_counts(tickets, as_of), ["month"])


def problem_counts(tickets: pd.DataFrame, links: pd.DataFrame, by_channel: bool = False) -> pd.DataFrame:
    """``Store.problem_counts``: tickets and problems per month x (place or grid) x full category (x channel).

    The rule of :func:`minqing.analysis.top_problems.problem_counts` at level 3.
    """
    out = top_problems.problem_counts(tickets, links, level=3, by_channel=by_channel)
    keys = ["month", "place_id", "grid_code", "category"] + (["channel"] if by_channel else [])
    return _text_keys(out, keys)


def top_problem_counts(tickets: pd.DataFrame, links: pd.DataFrame, month, level: int = 2,
                       n: int = 10) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``Store.top_problem_counts``: the rows of the ``n`` top problems of ``month`` and the month's typical shares.

    :func:`minqing.analysis.top_problems.top_problem_rows` and
    :func:`~minqing.analysis.top_problems.problem_typical` of the problem counts by channel at ``level``.
    """
    counts = top_problems.roll_up(problem_counts(tickets, links, by_channel=True), level)
    rows = _text_keys(top_problems.top_problem_rows(counts, month, n), ["month", "place_id", "grid_code", "category",
                                                                         "channel"])
    return rows, top_problems.problem_typical(counts, month)


def ticket_places_where(tickets: pd.DataFrame, links: pd.DataFrame) -> pd.DataFrame:
    """``Store.read_ticket_places_where``: the links of these tickets."""
    return links[links["source_id"].isin(tickets["source_id"])].reset_index(drop=True)


def effect_tickets(tickets: pd.DataFrame, links: pd.DataFrame, categories, start) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``Store.read_effect_tickets``: tickets received from ``start`` in the exact ``categories`` (all when None).

    Returns
    -------
    (DataFrame, DataFrame)
        The tickets' :data:`~minqing.store.contract.EFFECT_TICKET_COLUMNS` and their links.
    """
    keep = tickets["received_at"] >= localize(start, str(tickets["received_at"].dt.tz))  # naive: local time
    if categories:
        keep &= tickets["category"].isin(list(categories))
    tk = tickets.loc[keep, list(EFFECT_TICKET_COLUMNS)].reset_index(drop=True)
    return tk, ticket_places_where(tk, links)
