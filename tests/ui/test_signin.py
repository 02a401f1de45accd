"""The sign-in form in AppTest: a wrong password is refused, the right one signs in, five failures lock,
a disabled account is signed out at its next click, sign-out ends the session."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import PASSWORD
from streamlit.testing.v1 import AppTest

from minqing.i18n import t

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def store_url(tmp_path, tiny_units):
    from minqing.accounts import add_user
    from minqing.store import open_store

    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    with open_store(url) as store:
        store.write_units(tiny_units.drop(columns="unit_uid"))
        add_user(store, "amy", "planner", PASSWORD, actor="tests")
        add_user(store, "boss", "admin", PASSWORD, actor="tests")
    return url


def _form(at, name, password):
    at.text_input(key="signin_name").input(name)
    at.text_input(key="signin_password").input(password)
    at.button[0].click()
    return at.run()


def test_sign_in_refuses_then_admits(store_url, monkeypatch):
    monkeypatch.setenv("MINQING_DATABASE_URL", store_url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert at.title[0].value == t("signin.title", "zh")
    _form(at, "amy", "wrong-password-here")
    assert at.error and at.error[0].value == t("accounts.error_sign_in", "zh")
    _form(at, "nobody", "wrong-password-here")
    assert at.error[0].value == t("accounts.error_sign_in", "zh"), "an unknown name reads the same"
    assert "user" not in at.session_state
    _form(at, "amy", PASSWORD)
    assert not at.exception and at.session_state["user"].role == "planner"
    assert any(b.label == t("signin.sign_out", "zh") for b in at.sidebar.button)
    at.sidebar.button(key="sign_out").click().run()
    assert at.title[0].value == t("signin.title", "zh") and "auth" not in at.session_state


def test_five_failures_lock_the_account(store_url, monkeypatch):
    monkeypatch.setenv("MINQING_DATABASE_URL", store_url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    for _ in range(5):
        _form(at, "amy", "wrong-password-here")
    assert "15" in at.error[0].value  # locked for 15 minutes
    _form(at, "amy", PASSWORD)
    assert "user" not in at.session_state, "the right password is refused while locked"


def test_disabling_ends_a_running_session(store_url, monkeypatch):
    from minqing.accounts import disable_user
    from minqing.store import open_store

    monkeypatch.setenv("MINQING_DATABASE_URL", store_url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    _form(at, "amy", PASSWORD)
    assert at.session_state["user"].name == "amy"
    with open_store(store_url) as store:
        disable_user(store, "amy", actor="boss")
    at.run()
    assert at.title[0].value == t("signin.title", "zh")
    assert any(w.value == t("signin.disabled_now", "zh") for w in at.warning)


def test_an_idle_session_expires(store_url, monkeypatch):
    monkeypatch.setenv("MINQING_DATABASE_URL", store_url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    _form(at, "amy", PASSWORD)
    at.session_state["auth"] = {**at.session_state["auth"], "last_seen": 0.0}
    at.run()
    assert at.title[0].value == t("signin.title", "zh")
    assert any(t("signin.expired", "zh", hours=8) == i.value for i in at.info)


def test_sign_ins_are_audited_without_passwords(store_url, monkeypatch):
    from minqing.audit import read_audit
    from minqing.store import open_store

    monkeypatch.setenv("MINQING_DATABASE_URL", store_url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    _form(at, "amy", "wrong-password-here")
    _form(at, "amy", PASSWORD)
    with open_store(store_url) as store:
        log = read_audit(store)
    assert {"sign_in", "sign_in_failed"} <= set(log["action"])
    assert not log.astype(str).apply(lambda c: c.str.contains("wrong-password-here|" + PASSWORD)).any().any()
