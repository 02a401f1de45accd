"""Ticket tables, the ticket detail view and export buttons, shared by the pages."""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from minqing.export.writer import to_csv_bytes, to_xlsx_bytes
from minqing.geo.h3cells import cells_to_str
from minqing.htmlsafe import escape_markdown
from minqing.i18n import fmt_date, fmt_lonlat, t
from minqing.model import (
    CHANNELS,
    KINDS,
    LOCATION_SOURCES,
    RESOLVED,
    SATISFACTION,
    STATUSES,
    category_path,
)
from minqing.ui.components import show_table

EXPORT_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
"""Times in exports: the city's local time to the second (the importer reads them back exactly)."""

_VOCAB_COLUMNS = {
    "channel": CHANNELS,
    "kind": KINDS,
    "status": STATUSES,
    "satisfaction": SATISFACTION,
    "resolved": RESOLVED,
    "location_source": LOCATION_SOURCES,
}


def labelled(rows: pd.DataFrame, lang: str, time_format: str = "%Y-%m-%d %H:%M") -> pd.DataFrame:
    """Return the user-facing table of tickets: labels in ``lang``, local times, H3 as hex strings.

    Personal data must already be masked (``ScopedStore`` does it). Exports pass a
    ``time_format`` with seconds, so they import back exactly.
    """
    out = pd.DataFrame(index=rows.index)
    out[t("tickets.col_source_id", lang)] = rows["source_id"]
    out[t("tickets.col_received", lang)] = rows["received_at"].dt.strftime(time_format)
    out[t("tickets.col_category", lang)] = [category_path(c, lang) if isinstance(c, str) else "" for c in rows["category"]]
    for col in ("channel", "kind", "status", "satisfaction"):
        vocab = _VOCAB_COLUMNS[col]
        out[t(f"tickets.col_{col}", lang)] = [vocab[v].label(lang) if v in vocab else ("" if pd.isna(v) else v) for v in rows[col]]
    out[t("tickets.col_grid", lang)] = rows["grid_code"]
    out[t("tickets.col_address", lang)] = rows["address"]
    out[t("tickets.col_text", lang)] = rows["text"]
    out[t("tickets.col_due", lang)] = rows["due_at"].dt.strftime(time_format)
    out[t("tickets.col_closed", lang)] = rows["closed_at"].dt.strftime(time_format)
    return out


def ticket_table(rows: pd.DataFrame, lang: str, key: str | None = None) -> None:
    """Show tickets as a table (text is shown as text, never as HTML)."""
    show_table(labelled(rows, lang), hide_index=True, width="stretch", key=key)


def ticket_detail(row: pd.Series, place_links: pd.DataFrame, lang: str, place_names: dict | None = None,
                  grid_names: dict | None = None) -> None:
    """Show one ticket's fields; free text goes through st.text so nothing in it is rendered.

    Places and the grid are shown by name (``place_names``, ``grid_names``: id -> name); the point
    as coordinates, its H3 cell only beside them.
    """
    place_names, grid_names = place_names or {}, grid_names or {}
    st.subheader(t("tickets.detail", lang, id=escape_markdown(row["source_id"])))
    c1, c2 = st.columns(2)
    fields = [
        ("col_received", fmt_date(row["received_at"], lang) + row["received_at"].strftime(" %H:%M")),
        ("col_category", category_path(row["category"], lang)),
        ("col_channel", _label("channel", row["channel"], lang)),
        ("col_kind", _label("kind", row["kind"], lang)),
        ("col_status", _label("status", row["status"], lang)),
        ("col_resolved", _label("resolved", row["resolved"], lang)),
        ("col_satisfaction", _label("satisfaction", row["satisfaction"], lang)),
        ("col_handling_unit", row["handling_unit"]),
        ("col_due", _time(row["due_at"])),
        ("col_closed", _time(row["closed_at"])),
        ("col_followed_up", _time(row["followed_up_at"])),
        ("col_grid", _named(row["grid_code"], grid_names)),
        ("col_location", _label("location_source", row["location_source"], lang)),
        ("col_h3", _point(row, lang)),
        ("col_places", "、".join(place_names.get(p, p) for p in place_links["place_id"]) if len(place_links) else "—"),
        ("col_caller", f"{_s(row['caller_name'])} {_s(row['caller_phone'])}".strip()),
        ("col_repeat_of", _s(row["repeat_of"])),
    ]
    half = (len(fields) + 1) // 2
    for col, part in ((c1, fields[:half]), (c2, fields[half:])):
        for key, value in part:
            col.text(f"{t('tickets.' + key, lang)}：{_s(value) or '—'}")
    st.text(f"{t('tickets.col_address', lang)}：{_s(row['address'])}")
    st.text(f"{t('tickets.col_text', lang)}：\n{_s(row['text'])}")


def export_buttons(fetch, stem: str, lang: str) -> None:
    """Offer tickets as CSV and XLSX downloads, built only when a button is clicked.

    Parameters
    ----------
    fetch : callable
        Returns the rows to export (already scoped and masked), e.g. a
        ``functools.partial`` of a ``ui.data`` reader; called on click, not on
        every rerun, so a page with 50,000 matching orders stays fast.
    """
    c1, c2 = st.columns(2)
    c1.download_button(
        t("tickets.export_csv", lang), partial(_export_bytes, fetch, lang, "csv", stem),
        file_name=f"{stem}.csv", mime="text/csv", key=f"{stem}_csv", on_click="ignore",
    )
    c2.download_button(
        t("tickets.export_xlsx", lang), partial(_export_bytes, fetch, lang, "xlsx", stem),
        file_name=f"{stem}.xlsx", mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"{stem}_xlsx", on_click="ignore",
    )


def export_bytes(rows: pd.DataFrame, lang: str, fmt: str) -> bytes:
    """Return the labelled table of ``rows`` as CSV (UTF-8 with BOM, for Excel) or XLSX bytes.

    Written by :mod:`minqing.export.writer`: no cell runs as a formula in Excel or WPS.
    """
    table = labelled(rows, lang, EXPORT_TIME_FORMAT)
    if fmt == "csv":
        return to_csv_bytes(table)
    return to_xlsx_bytes(table)


def _export_bytes(fetch, lang: str, fmt: str, stem: str = "tickets") -> bytes:
    from minqing.audit import audit
    from minqing.auth import require
    from minqing.ui.cache import data
    from minqing.ui.components import current_user_state

    user = current_user_state()
    require(user, "export")
    rows = fetch()
    audit(data.current_store(), user.name, "export", target=f"{stem}.{fmt}", rows=len(rows),
          masked=not user.sees_personal_data)
    return export_bytes(rows, lang, fmt)


def _label(column: str, value, lang: str) -> str:
    vocab = _VOCAB_COLUMNS[column]
    return vocab[value].label(lang) if value in vocab else _s(value)


def _named(code, names: dict) -> str:
    """``name（code）`` when the name is known, else the code."""
    code = _s(code)
    return f"{names[code]}（{code}）" if code and names.get(code) else code


def _point(row: pd.Series, lang: str) -> str:
    """The ticket's coordinates, its H3 cell beside them: ``北纬 31.2834°，东经 121.5012°（H3 8a30…）``."""
    if pd.isna(row.get("lon")) or pd.isna(row.get("lat")):
        return ""
    cell = "" if pd.isna(row["h3_cell"]) else f"（H3 {cells_to_str([row['h3_cell']])[0]}）"
    return fmt_lonlat(row["lon"], row["lat"], lang) + cell


def _time(v) -> str:
    return "" if pd.isna(v) else pd.Timestamp(v).strftime("%Y-%m-%d %H:%M")


def _s(v) -> str:
    return "" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)
