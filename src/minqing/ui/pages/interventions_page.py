"""治理措施: list, register, edit and close interventions, with the edit history."""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from minqing.errors import MinqingError
from minqing.htmlsafe import markdown_params
from minqing.i18n import t
from minqing.interventions.registry import (
    Intervention,
    add_intervention,
    close_intervention,
    edit_intervention,
    get_intervention,
)
from minqing.model import CATEGORIES, INTERVENTION_TYPES, category_path
from minqing.ui.cache import data
from minqing.ui.cache import effects as di
from minqing.ui.components import show_table
from minqing.ui.page import open_page


def _type_label(code: str, lang: str) -> str:
    return INTERVENTION_TYPES[code].label(lang)


def _cat_label(code: str, lang: str) -> str:
    return f"{code} {category_path(code, lang)}"


def _iv_label(iid: int, names: dict) -> str:
    return f"{iid} · {names.get(iid, '')}"


def _place_label(pid: str, names: dict) -> str:
    return f"{names.get(pid, pid)} ({pid})"


def render() -> None:
    """Draw the page."""
    page = open_page("interventions_edit", "interventions.heading", as_of=False)
    lg, user, store, url, version = page.lang, page.user, page.store, page.url, page.version
    by = user.name or user.role
    ivs = di.interventions(url, version)
    st.subheader(t("interventions.list", lg))
    if ivs.empty:
        st.info(t("interventions.none", lg))
    else:
        show = ivs[["intervention_id", "name", "type", "start_date", "end_date", "status", "n_targets"]].copy()
        show["type"] = show["type"].map(partial(_type_label, lang=lg))
        show["status"] = show["status"].map(lambda s: t(f"interventions.status_{s}", lg))
        show_table(show.rename(columns={
            "intervention_id": t("interventions.col_id", lg), "name": t("interventions.name", lg),
            "type": t("interventions.type", lg), "start_date": t("interventions.start_date", lg),
            "end_date": t("interventions.end_date", lg), "status": t("interventions.col_status", lg),
            "n_targets": t("interventions.col_targets", lg)}), hide_index=True, use_container_width=True)

    places = data.places(url, version)
    pnames = dict(zip(places["place_id"].astype(str), places["name"]))
    grids = data.units(url, version, "grid", None)
    names = dict(zip(ivs["intervention_id"].astype(int), ivs["name"])) if not ivs.empty else {}
    tab_new, tab_edit, tab_close = st.tabs([t("interventions.new", lg), t("interventions.edit", lg),
                                            t("interventions.close", lg)])
    with tab_new:
        _form(store, None, pnames, sorted(set(grids["code"])), lg, by, "new")
    with tab_edit:
        if names:
            iid = st.selectbox(t("interventions.choose", lg), list(names), format_func=partial(_iv_label, names=names),
                               key="iv_edit_pick")
            _form(store, get_intervention(store, int(iid)), pnames, sorted(set(grids["code"])), lg, by, f"edit{iid}")
            st.markdown("**" + t("interventions.history", lg) + "**")
            h = di.history(url, version, int(iid))
            show_table(pd.DataFrame({
                t("interventions.col_changed_at", lg): h["changed_at"].astype(str).str[:16].str.replace("T", " "),
                t("interventions.col_changed_by", lg): h["changed_by"],
                t("interventions.col_action", lg): [t(f"interventions.action_{a}", lg) for a in h["action"]],
                t("interventions.col_change", lg): [_change_text(b, a, pnames, lg) for b, a in zip(h["before"], h["after"])],
            }), hide_index=True, use_container_width=True)
    with tab_close:
        open_ = {k: v for k, v in names.items() if (ivs.set_index("intervention_id").loc[k, "status"] == "ongoing")}
        if open_:
            with st.form("iv_close"):
                iid = st.selectbox(t("interventions.choose", lg), list(open_),
                                   format_func=partial(_iv_label, names=open_))
                end = st.date_input(t("interventions.end_date", lg))
                if st.form_submit_button(t("interventions.close", lg)):
                    _run(lambda: close_intervention(store, int(iid), str(end), by=by),
                         t("interventions.closed", lg, id=iid, date=str(end)), lg)


_FIELDS = {"name": "name", "type": "type", "start_date": "start_date", "end_date": "end_date",
           "implementation_end": "implementation_end", "units_involved": "units_involved",
           "description": "description", "target_categories": "target_categories", "targets": "col_targets"}


def _change_text(before, after, pnames: dict, lg: str) -> str:
    """What an edit changed, in words: ``措施名称：旧 → 新；…`` (a new record: its name and start)."""
    after = after or {}
    if not before:  # created: nothing before it
        return "；".join(f"{t('interventions.' + _FIELDS[k], lg)}：{_value(k, after.get(k), pnames, lg)}"
                        for k in ("name", "start_date") if after.get(k))
    parts = []
    for k, old in before.items():
        new = after.get(k)
        if k in _FIELDS and old != new:
            parts.append(f"{t('interventions.' + _FIELDS[k], lg)}：{_value(k, old, pnames, lg)} → "
                         f"{_value(k, new, pnames, lg)}")
    return "；".join(parts) or t("interventions.no_change", lg)


def _value(field: str, value, pnames: dict, lg: str) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if field == "type":
        return _type_label(value, lg) if value in INTERVENTION_TYPES else str(value)
    if field == "target_categories":
        return "、".join(category_path(c, lg) for c in value)
    if field == "targets":
        return "、".join(_target_label(kind, tid, pnames, lg) for kind, tid in value)
    return str(value)


def _target_label(kind: str, tid: str, pnames: dict, lg: str) -> str:
    if kind == "place":
        return _place_label(tid, pnames) if tid in pnames else str(tid)
    if kind == "cell":
        return f"{t('interventions.target_cell', lg)}（{tid}）"
    return f"{t('interventions.grids', lg)} {tid}"


def _form(store, iv: Intervention | None, pnames: dict, grid_codes: list, lg: str, by: str, key: str) -> None:
    with st.form(f"iv_form_{key}"):
        name = st.text_input(t("interventions.name", lg), value=iv.name if iv else "")
        types = list(INTERVENTION_TYPES)
        typ = st.selectbox(t("interventions.type", lg), types, index=types.index(iv.type) if iv else 0,
                           format_func=partial(_type_label, lang=lg))
        c1, c2, c3 = st.columns(3)
        start = c1.date_input(t("interventions.start_date", lg),
                              value=pd.Timestamp(iv.start_date).date() if iv else None)
        has_impl = c2.checkbox(t("interventions.has_impl", lg), value=bool(iv and iv.implementation_end))
        impl = c2.date_input(t("interventions.implementation_end", lg),
                             value=pd.Timestamp(iv.implementation_end).date() if iv and iv.implementation_end else None)
        has_end = c3.checkbox(t("interventions.has_end", lg), value=bool(iv and iv.end_date))
        end = c3.date_input(t("interventions.end_date", lg),
                            value=pd.Timestamp(iv.end_date).date() if iv and iv.end_date else None)
        units = st.text_input(t("interventions.units_involved", lg), value=iv.units_involved if iv else "")
        desc = st.text_area(t("interventions.description", lg), value=iv.description if iv else "")
        leaves = [c for c in CATEGORIES if CATEGORIES[c].level == 3]
        cats = st.multiselect(t("interventions.target_categories", lg), list(CATEGORIES),
                              default=list(iv.target_categories) if iv else [], format_func=partial(_cat_label, lang=lg),
                              placeholder=t("common.choose_many", lg))
        targets = list(iv.targets) if iv else []
        pl = st.multiselect(t("interventions.places", lg), list(pnames), format_func=partial(_place_label, names=pnames),
                            default=[b for a, b in targets if a == "place" and b in pnames],
                            placeholder=t("common.choose_many", lg))
        gr = st.multiselect(t("interventions.grids", lg), grid_codes,
                            default=[b for a, b in targets if a == "grid" and b in grid_codes],
                            placeholder=t("common.choose_many", lg))
        cells = st.text_area(t("interventions.cells", lg), value="\n".join(b for a, b in targets if a == "cell"))
        del leaves
        if st.form_submit_button(t("interventions.save", lg)):
            tg = tuple([("place", p) for p in pl] + [("grid", g) for g in gr]
                       + [("cell", c.strip()) for c in cells.splitlines() if c.strip()])
            fields = dict(name=name, type=typ, start_date=str(start) if start else None,
                          end_date=str(end) if has_end and end else None,
                          implementation_end=str(impl) if has_impl and impl else None,
                          units_involved=units, description=desc, target_categories=tuple(cats), targets=tg)
            if iv is None:
                _run(lambda: add_intervention(store, Intervention(**fields), by=by), None, lg)
            else:
                _run(lambda: edit_intervention(store, iv.intervention_id, by=by, **fields).intervention_id, None, lg)


def _run(action, message: str | None, lg: str) -> None:
    try:
        result = action()
    except MinqingError as exc:
        st.error(t(exc.key, lg, **markdown_params(getattr(exc, "params", {}))))
        return
    st.success(message or t("interventions.saved", lg, id=result))
