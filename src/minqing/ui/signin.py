"""Sign-in, session expiry and sign-out: who is looking comes from here and nowhere else.

Not from a URL, not from a widget: the page runs nothing but this form until
someone has signed in (``app.py`` calls :func:`signed_in_user` before
``st.navigation``, so no page, download or map frame exists before that). Every
run re-reads the account, so a disabled account or a changed scope takes effect
at once, and a session idle for longer than ``minqing.signin.SESSION_HOURS`` ends.
"""

from __future__ import annotations

import time

import streamlit as st

from minqing.auth import User
from minqing.errors import MinqingError
from minqing.htmlsafe import escape_markdown, markdown_params
from minqing.i18n import t
from minqing.ui.cache import data

_STATE = "auth"


def signed_in_user(lg: str) -> User:
    """Return the signed-in user; otherwise draw the sign-in form and stop the run."""
    from minqing.oidc import auth_mode

    if auth_mode() == "oidc":
        return _oidc_user(lg)
    user = _session_user(lg)
    if user is not None:
        return user
    # Before sign-in every address of the app (a shared link to /map?g=..., say) is the sign-in
    # form and nothing else; the menu is hidden. Once signed in, the same address opens the page.
    from minqing.ui.nav import PAGES

    title = t("signin.submit", lg)
    st.navigation([st.Page(_signin_page, title=title, url_path=view, default=(n == 0))
                   for n, (view, *_rest) in enumerate(PAGES)], position="hidden").run()
    st.stop()


def _signin_page() -> None:
    from minqing.ui.components import lang

    _form(lang())


def _user_of(account) -> User:
    if account.role == "grid_leader":
        return User("grid_leader", tuple(account.grid_codes), name=account.name,
                    community_codes=tuple(account.community_codes))
    return User(account.role, name=account.name)


def _session_user(lg: str) -> User | None:
    from minqing.accounts import get_account
    from minqing.signin import SESSION_HOURS

    state = st.session_state.get(_STATE)
    if not state:
        return None
    now = time.time()
    if now - state["last_seen"] > SESSION_HOURS * 3600:
        _end(reason="session_expired")
        st.info(t("signin.expired", lg, hours=SESSION_HOURS))
        return None
    account = get_account(data.current_store(), state["name"])
    if account is None or account.disabled:
        _end(reason="account_disabled")
        st.warning(t("signin.disabled_now", lg))
        return None
    state["last_seen"] = now
    return _user_of(account)


def _form(lg: str) -> None:
    from minqing.accounts import list_users
    from minqing.signin import authenticate

    st.title(t("signin.title", lg))
    st.caption(t("signin.hint", lg))
    if not list_users(data.current_store()):
        st.info(t("signin.no_accounts", lg))
    with st.form("signin", border=True):
        name = st.text_input(t("signin.name", lg), max_chars=64, key="signin_name")
        password = st.text_input(t("signin.password", lg), type="password", max_chars=256, key="signin_password")
        submitted = st.form_submit_button(t("signin.submit", lg), type="primary")
    if not submitted:
        return
    try:
        account = authenticate(data.current_store(), name.strip(), password)
    except MinqingError as exc:
        st.error(t(exc.key, lg, **markdown_params(exc.params)))
        return
    now = time.time()
    st.session_state[_STATE] = {"name": account.name, "signed_in_at": now, "last_seen": now}
    st.rerun()


def _end(reason: str) -> None:
    from minqing.audit import audit

    state = st.session_state.pop(_STATE, None)
    if state:
        try:
            audit(data.current_store(), state["name"], "sign_out", detail={"reason": reason})
        except MinqingError:  # a read-only store must not keep anyone signed in
            pass


def sign_out_box(user: User, lg: str) -> None:
    """Show who is signed in, with their role and scope, and the sign-out button, in the sidebar."""
    from minqing.oidc import auth_mode

    scope = "、".join((*user.community_codes, *user.grid_codes))
    st.sidebar.markdown(t("signin.who", lg, name=escape_markdown(user.name or "-"),
                          role=t(f"auth.role_{user.role}", lg)))
    if scope:
        st.sidebar.caption(t("signin.scope", lg, scope=escape_markdown(scope)))
    if st.sidebar.button(t("signin.sign_out", lg), key="sign_out"):
        if auth_mode() == "oidc":
            st.logout()
        _end(reason="sign_out")
        st.rerun()


def _oidc_user(lg: str) -> User:
    from minqing.audit import audit
    from minqing.oidc import oidc_settings, user_from_claims

    settings = oidc_settings()
    if not getattr(st.user, "is_logged_in", False):
        st.title(t("signin.title", lg))
        if st.button(t("signin.oidc", lg), type="primary"):
            st.login(settings.get("provider") or None)
        st.stop()
    try:
        user = user_from_claims(st.user.to_dict(), settings)
    except MinqingError as exc:
        st.error(t(exc.key, lg, **markdown_params({**exc.params, "message": str(exc)})))
        if st.button(t("signin.sign_out", lg)):
            st.logout()
        st.stop()
    if not st.session_state.get("oidc_audited"):
        audit(data.current_store(), user.name, "sign_in", detail={"via": "oidc", "role": user.role})
        st.session_state["oidc_audited"] = True
    return user
