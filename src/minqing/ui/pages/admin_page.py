"""管理: accounts (add, disable, enable, reset a password, change a scope) and the audit log. Admins only."""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from minqing.auth import ROLES, require
from minqing.errors import MinqingError
from minqing.export.writer import to_csv_bytes
from minqing.htmlsafe import markdown_params
from minqing.i18n import t
from minqing.ui.cache import data
from minqing.ui.components import show_table
from minqing.ui.page import open_page


def render() -> None:
    """Draw the page."""
    page = open_page("users", "admin.heading", as_of=False)
    lg, user, store = page.lang, page.user, page.store
    users_tab, audit_tab = st.tabs([t("admin.users", lg), t("admin.audit", lg)])
    with users_tab:
        _users(store, user, lg)
    with audit_tab:
        require(user, "audit")
        _audit(store, user, lg)


def _action_label(action: str, lang: str) -> str:
    return t(f"admin.action_{action}", lang)


def _role_label(role: str, lang: str) -> str:
    return t(f"auth.role_{role}", lang)


def _users(store, user, lg: str) -> None:
    from minqing.accounts import list_users

    accounts = list_users(store)
    table = pd.DataFrame({
        t("admin.col_name", lg): [a.name for a in accounts],
        t("admin.col_role", lg): [_role_label(a.role, lg) for a in accounts],
        t("admin.col_scope", lg): ["、".join((*a.community_codes, *a.grid_codes)) for a in accounts],
        t("admin.col_state", lg): [t("admin.disabled", lg) if a.disabled else
                                   (t("admin.locked", lg) if a.locked_until is not None and not pd.isna(a.locked_until)
                                    and a.locked_until > pd.Timestamp.now(tz=a.locked_until.tz) else
                                    t("admin.active", lg)) for a in accounts],
        t("admin.col_last", lg): [("" if a.last_sign_in_at is None or pd.isna(a.last_sign_in_at)
                                   else pd.Timestamp(a.last_sign_in_at).strftime("%Y-%m-%d %H:%M")) for a in accounts],
    })
    show_table(table, hide_index=True, width="stretch")

    with st.form("admin_add", clear_on_submit=True):
        st.markdown("**" + t("admin.add", lg) + "**")
        c1, c2 = st.columns(2)
        name = c1.text_input(t("admin.col_name", lg), max_chars=64)
        role = c2.selectbox(t("admin.col_role", lg), ROLES, format_func=partial(_role_label, lang=lg))
        grids = st.text_input(t("admin.grids", lg), help=t("admin.codes_help", lg))
        communities = st.text_input(t("admin.communities", lg), help=t("admin.codes_help", lg))
        c3, c4 = st.columns(2)
        pw1 = c3.text_input(t("signin.password", lg), type="password")
        pw2 = c4.text_input(t("admin.password_again", lg), type="password")
        if st.form_submit_button(t("admin.add", lg), type="primary"):
            _act(lg, "admin.added", _add, store, user, name, role, grids, communities, pw1, pw2)

    names = [a.name for a in accounts]
    if not names:
        return
    with st.form("admin_change"):
        st.markdown("**" + t("admin.change", lg) + "**")
        c1, c2 = st.columns(2)
        who = c1.selectbox(t("admin.col_name", lg), names)
        action = c2.radio(t("admin.action", lg), ("disable", "enable", "password"), horizontal=True,
                          format_func=partial(_action_label, lang=lg))
        c3, c4 = st.columns(2)
        pw1 = c3.text_input(t("admin.new_password", lg), type="password")
        pw2 = c4.text_input(t("admin.password_again", lg), type="password")
        if st.form_submit_button(t("admin.apply", lg)):
            _act(lg, "admin.changed", _change, store, user, who, action, pw1, pw2)


def _codes(text: str) -> tuple[str, ...]:
    return tuple(c for c in (p.strip() for p in text.replace("，", ",").replace("、", ",").split(",")) if c)


def _add(store, user, name, role, grids, communities, pw1, pw2):
    from minqing.accounts import add_user

    _same(pw1, pw2)
    add_user(store, name.strip(), role, pw1, grid_codes=_codes(grids), community_codes=_codes(communities),
             actor=user.name)


def _change(store, user, who, action, pw1, pw2):
    from minqing.accounts import AccountError, disable_user, enable_user, set_password

    if action == "disable":
        if who == user.name:
            raise AccountError("you cannot disable your own account; ask another administrator",
                               key="admin.error_self")
        disable_user(store, who, actor=user.name)
    elif action == "enable":
        enable_user(store, who, actor=user.name)
    else:
        _same(pw1, pw2)
        set_password(store, who, pw1, actor=user.name)


def _same(pw1: str, pw2: str) -> None:
    from minqing.accounts import AccountError

    if pw1 != pw2:
        raise AccountError("the two passwords differ; type the same password twice", key="admin.error_mismatch")


def _act(lg, done_key, fn, *args) -> None:
    try:
        fn(*args)
    except MinqingError as exc:
        st.error(t(exc.key, lg, **markdown_params({**exc.params, "message": str(exc)})))
        return
    st.success(t(done_key, lg))
    st.rerun()


def _audit(store, user, lg: str) -> None:
    from minqing.audit import read_audit

    log = read_audit(store, limit=2_000)
    shown = pd.DataFrame({
        t("admin.col_at", lg): log["at"].dt.strftime("%Y-%m-%d %H:%M:%S") if len(log) else [],
        t("admin.col_actor", lg): log["actor"] if len(log) else [],
        t("admin.col_action", lg): [_log_action(a, lg) for a in log["action"]] if len(log) else [],
        t("admin.col_target", lg): log["target"] if len(log) else [],
        t("admin.col_rows", lg): log["rows"] if len(log) else [],
        t("admin.col_detail", lg): [_log_detail(d, lg) for d in log["detail"]] if len(log) else [],
    })
    show_table(shown, hide_index=True, width="stretch")

    st.download_button(t("admin.audit_export", lg), partial(_audit_csv, shown, user.name), file_name="audit_log.csv",
                       mime="text/csv", on_click="ignore", key="audit_csv")


def _log_action(action: str, lg: str) -> str:
    """An audit action in words (an action of a newer version than this catalog: as recorded)."""
    return _known(f"admin.log_{action}", action, lg)


def _log_detail(detail, lg: str) -> str:
    """An audit row's detail (JSON) in words: ``角色：会议参与者；范围：全部单元``."""
    import json

    if detail is None or (not isinstance(detail, str) and pd.isna(detail)) or detail == "":
        return ""
    try:
        fields = json.loads(detail)
    except (TypeError, ValueError):
        return str(detail)
    if not isinstance(fields, dict):
        return str(detail)
    return "；".join(f"{_known(f'admin.detail_{k}', k, lg)}：{_detail_value(k, v, lg)}" for k, v in fields.items())


def _detail_value(key: str, value, lg: str) -> str:
    if key in ("role", "was_role") and value in ROLES:
        return _role_label(value, lg)
    if key == "reason":
        return _known(f"admin.reason_{value}", str(value), lg)
    if key == "scope":
        return _scope_text(str(value), lg)
    if key == "type":
        from minqing.model import INTERVENTION_TYPES

        return INTERVENTION_TYPES[value].label(lg) if value in INTERVENTION_TYPES else str(value)
    if isinstance(value, bool):
        return t("admin.yes" if value else "admin.no", lg)
    return str(value)


def _scope_text(scope: str, lg: str) -> str:
    """``accounts._scope_text`` ("grids a,b; communities c" or "all units") in words."""
    if scope == "all units":
        return t("admin.scope_all", lg)
    parts = []
    for part in scope.split("; "):
        kind, _, codes = part.partition(" ")
        label = {"grids": "map.grids", "communities": "map.communities"}.get(kind)
        parts.append(f"{t(label, lg)} {codes}" if label else part)
    return "；".join(parts)


def _known(key: str, fallback: str, lg: str) -> str:
    text = t(key, lg)
    return fallback if text == key else text


def _audit_csv(shown: pd.DataFrame, actor: str) -> bytes:
    from minqing.audit import audit

    audit(data.current_store(), actor, "export", target="audit_log.csv", rows=len(shown), masked=True)
    return to_csv_bytes(shown)
