"""Accounts, sign-in, lockout, the audit log and the ``minqing user`` / ``minqing audit`` commands."""

from __future__ import annotations

import io
import json
import logging
import stat

import pandas as pd
import pytest
from argon2 import PasswordHasher
from conftest import X0, Y0, make_tickets

from minqing import accounts as A
from minqing import audit as AU
from minqing import signin as S
from minqing.cli.main import main
from minqing.demo import users as D
from minqing.geo.link import apply_links, link_tickets
from minqing.store import open_store

PW = "s3cret-Passw0rd"
T0 = pd.Timestamp("2025-03-01 09:00", tz="Asia/Shanghai")
_REAL_HASHER = A._hasher


@pytest.fixture(autouse=True)
def fast_hashes(monkeypatch):
    """Cheap argon2id parameters (same algorithm) so the many hashes here take milliseconds."""
    monkeypatch.setattr(A, "_hasher", lambda: PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    monkeypatch.setattr(A, "_dummy_hash", None)


@pytest.fixture
def url(tmp_path, tiny_units):
    """A tiny store: grids G1-G4 (G4 retired on 2025-07-01 for G4A/G4B), communities C1, C2.

    Tickets: 3 in the retired G4, 2 in G3, 1 in G1.
    """
    u = f"sqlite:///{tmp_path}/a.sqlite"
    with open_store(u) as s:
        s.write_units(tiny_units.drop(columns="unit_uid"))
        g1, g3, g4 = (X0 + 0.005, Y0 + 0.005), (X0 + 0.015, Y0 + 0.005), (X0 + 0.015, Y0 + 0.015)
        t = make_tickets([g4, g4, g4, g3, g3, g1], ["2025-01-01 08:00"] * 6)
        t["caller_name"] = "张三"
        t["caller_phone"] = "13812345678"
        s.write_tickets(*apply_links(t, link_tickets(t, s.read_units())))
    return u


@pytest.fixture
def store(url):
    s = open_store(url)
    yield s
    s.close()


def _audit_text(store) -> str:
    return AU.read_audit(store, limit=None).astype(str).to_csv()


def _users_text(store) -> str:
    return store.read_users().drop(columns="password_hash").astype(str).to_csv()


# -- hashing and sign-in ------------------------------------------------------------------------------
def test_hash_is_argon2id_with_the_library_defaults(store, monkeypatch):
    monkeypatch.setattr(A, "_hasher", _REAL_HASHER)
    A.add_user(store, "alice", "planner", PW)
    h = store.read_users().set_index("name").loc["alice", "password_hash"]
    assert h.startswith("$argon2id$")
    assert PW not in h
    assert not PasswordHasher().check_needs_rehash(h)
    assert S.authenticate(store, "alice", PW).name == "alice"


def test_old_parameters_are_rehashed_on_sign_in(store, monkeypatch):
    A.add_user(store, "alice", "planner", PW)  # made with the cheap test parameters
    old = store.read_users()["password_hash"].iloc[0]
    monkeypatch.setattr(A, "_hasher", _REAL_HASHER)
    S.authenticate(store, "alice", PW, now=T0)
    new = store.read_users()["password_hash"].iloc[0]
    assert new != old and new.startswith("$argon2id$") and not PasswordHasher().check_needs_rehash(new)
    assert S.authenticate(store, "alice", PW, now=T0).name == "alice"


def test_wrong_password_and_unknown_user_give_the_same_error(store):
    A.add_user(store, "alice", "planner", PW)
    errors = []
    for name, pw in (("alice", "wrong-password"), ("nobody", PW), ("", ""), (None, None)):
        with pytest.raises(S.SignInError) as info:
            S.authenticate(store, name, pw, now=T0)
        errors.append(info.value)
    assert {type(e) for e in errors} == {S.SignInError}
    assert {(str(e), e.key, tuple(e.params.items())) for e in errors} == {
        ("wrong name or password", "accounts.error_sign_in", ())}


def test_unknown_user_costs_a_verification(store, monkeypatch):
    calls = []
    real = A._verify
    monkeypatch.setattr(A, "_verify", lambda h, p: calls.append(h) or real(h, p))
    with pytest.raises(S.SignInError):
        S.authenticate(store, "nobody", PW)
    assert len(calls) == 1 and calls[0].startswith("$argon2id$")


def test_success_resets_failures_and_sets_last_sign_in(store):
    A.add_user(store, "alice", "planner", PW)
    for _ in range(3):
        with pytest.raises(S.SignInError):
            S.authenticate(store, "alice", "wrong-password", now=T0)
    assert A.get_account(store, "alice").failed_count == 3
    acc = S.authenticate(store, "alice", PW, now=T0)
    assert acc.failed_count == 0 and acc.last_sign_in_at == T0 and acc.locked_until is None


def test_lockout_after_five_failures_and_unlock_after_fifteen_minutes(store):
    A.add_user(store, "alice", "planner", PW)
    for i in range(S.LOCK_AFTER - 1):
        with pytest.raises(S.SignInError) as info:
            S.authenticate(store, "alice", "wrong-password", now=T0 + pd.Timedelta(seconds=i))
        assert type(info.value) is S.SignInError
    with pytest.raises(S.LockedError) as info:  # the fifth
        S.authenticate(store, "alice", "wrong-password", now=T0 + pd.Timedelta(seconds=4))
    assert info.value.params == {"minutes": 15}
    acc = A.get_account(store, "alice")
    assert acc.locked_until == T0 + pd.Timedelta(seconds=4, minutes=15)
    assert acc.is_locked(T0 + pd.Timedelta(minutes=10)) and not acc.is_locked(T0 + pd.Timedelta(minutes=16))
    # the right password is refused while locked, and the error names the minutes left
    with pytest.raises(S.LockedError) as info:
        S.authenticate(store, "alice", PW, now=T0 + pd.Timedelta(minutes=10))
    assert info.value.params == {"minutes": 6}
    assert "6 minute" in str(info.value)
    assert A.get_account(store, "alice").locked_until == T0 + pd.Timedelta(seconds=4, minutes=15)  # not extended
    # after 15 minutes it works again, and one more failure does not lock at once
    later = T0 + pd.Timedelta(minutes=15, seconds=5)
    with pytest.raises(S.SignInError) as info:
        S.authenticate(store, "alice", "wrong-password", now=later)
    assert type(info.value) is S.SignInError and A.get_account(store, "alice").failed_count == 1
    assert S.authenticate(store, "alice", PW, now=later).failed_count == 0
    actions = AU.read_audit(store, actor="alice")["action"].tolist()[::-1]
    assert actions == ["sign_in_failed"] * 5 + ["sign_in_locked", "sign_in_failed", "sign_in"]


def test_enable_and_passwd_clear_a_lockout(store):
    A.add_user(store, "alice", "planner", PW)
    for _ in range(S.LOCK_AFTER):
        with pytest.raises(S.SignInError):
            S.authenticate(store, "alice", "wrong-password", now=T0)
    A.enable_user(store, "alice", actor="admin")
    assert S.authenticate(store, "alice", PW, now=T0).name == "alice"
    for _ in range(S.LOCK_AFTER):
        with pytest.raises(S.SignInError):
            S.authenticate(store, "alice", "wrong-password", now=T0)
    A.set_password(store, "alice", "another-passw0rd", actor="admin")
    assert S.authenticate(store, "alice", "another-passw0rd", now=T0).name == "alice"
    with pytest.raises(S.SignInError):
        S.authenticate(store, "alice", PW, now=T0)


def test_disabled_user_is_refused(store):
    A.add_user(store, "alice", "planner", PW)
    A.add_user(store, "root", "admin", PW)
    A.disable_user(store, "alice", actor="root")
    assert A.get_account(store, "alice").disabled
    with pytest.raises(S.DisabledError) as info:
        S.authenticate(store, "alice", PW, now=T0)
    assert info.value.key == "accounts.error_disabled"
    with pytest.raises(S.SignInError) as info:  # a wrong password says nothing about the state
        S.authenticate(store, "alice", "wrong-password", now=T0)
    assert type(info.value) is S.SignInError
    A.enable_user(store, "alice", actor="root")
    assert S.authenticate(store, "alice", PW, now=T0).name == "alice"


def test_the_last_admin_cannot_be_disabled_or_demoted(store):
    A.add_user(store, "root", "admin", PW)
    with pytest.raises(A.AccountError, match="only enabled admin"):
        A.disable_user(store, "root", actor="root")
    with pytest.raises(A.AccountError, match="only enabled admin"):
        A.set_scope(store, "root", role="planner", actor="root")
    A.add_user(store, "root2", "admin", PW)
    A.disable_user(store, "root", actor="root2")


# -- validation ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("password, key", [
    ("short", "accounts.error_password_short"),
    ("x" * 12, "accounts.error_password_repeated"),
    ("AliceSmith1", "accounts.error_password_name"),
    ("y" * 2000 + "z", "accounts.error_password_long"),
    (None, "accounts.error_password_short"),
])
def test_password_policy(store, password, key):
    with pytest.raises(A.PasswordPolicyError) as info:
        A.add_user(store, "alicesmith1", "planner", password)
    assert info.value.key == key
    assert password is None or password not in str(info.value)
    assert A.list_users(store) == []
    A.add_user(store, "alicesmith1", "planner", PW)
    with pytest.raises(A.PasswordPolicyError):
        A.set_password(store, "alicesmith1", password, actor="x")


@pytest.mark.parametrize("name, key", [
    ("", "accounts.error_name_empty"),
    ("a" * 65, "accounts.error_name_long"),
    ("al\x00ice", "accounts.error_name_chars"),
    ("al\u202eice", "accounts.error_name_chars"),
    (" alice", "accounts.error_name_chars"),
])
def test_name_rules(store, name, key):
    with pytest.raises(A.AccountError) as info:
        A.add_user(store, name, "planner", PW)
    assert info.value.key == key


def test_name_taken_and_unknown_role(store):
    A.add_user(store, "a" * 64, "planner", PW)
    A.add_user(store, "王小明", "meeting", PW)
    with pytest.raises(A.UserExistsError):
        A.add_user(store, "王小明", "planner", PW)
    with pytest.raises(A.AccountScopeError, match="allowed: admin, planner, grid_leader, meeting"):
        A.add_user(store, "bob", "boss", PW)
    with pytest.raises(A.UnknownUserError):
        A.set_password(store, "nobody", PW, actor="x")
    assert A.get_account(store, "nobody") is None


def test_grid_leader_scope_validation(store):
    with pytest.raises(A.AccountScopeError) as info:
        A.add_user(store, "gl", "grid_leader", PW)
    assert "minqing info" in str(info.value)
    with pytest.raises(A.AccountScopeError) as info:
        A.add_user(store, "gl", "grid_leader", PW, grid_codes=("G1", "G9"))
    assert "'G9'" in str(info.value) and "minqing info" in str(info.value)
    assert info.value.key == "accounts.error_unknown_grid" and info.value.params == {"code": "G9"}
    with pytest.raises(A.AccountScopeError) as info:  # a community code is not a grid code
        A.add_user(store, "gl", "grid_leader", PW, grid_codes=("C1",))
    with pytest.raises(A.AccountScopeError) as info:
        A.add_user(store, "gl", "grid_leader", PW, community_codes=("G1",))
    assert info.value.key == "accounts.error_unknown_community"
    with pytest.raises(A.AccountScopeError) as info:
        A.add_user(store, "pl", "planner", PW, grid_codes=("G1",))
    assert info.value.key == "accounts.error_scope_not_leader"
    acc = A.add_user(store, "gl", "grid_leader", PW, grid_codes=("G1", "G2"), community_codes=("C2",))
    assert acc.grid_codes == ("G1", "G2") and acc.community_codes == ("C2",)
    assert A.account_grid_codes(store, acc) == ("G1", "G2", "G3", "G4", "G4A", "G4B")
    acc = A.set_scope(store, "gl", grid_codes=("G3",), community_codes=(), actor="admin")
    assert (acc.grid_codes, acc.community_codes) == (("G3",), ())
    acc = A.set_scope(store, "gl", role="planner", actor="admin")  # leaving the role clears the codes
    assert (acc.role, acc.grid_codes, acc.community_codes) == ("planner", (), ())
    with pytest.raises(A.AccountScopeError):
        A.set_scope(store, "gl", role="grid_leader", actor="admin")


# -- the audit log -----------------------------------------------------------------------------------------
def test_every_action_is_audited_without_passwords(store, caplog):
    caplog.set_level(logging.DEBUG)
    A.add_user(store, "root", "admin", PW, actor="setup")
    A.add_user(store, "gl", "grid_leader", PW, grid_codes=("G1",), actor="root")
    A.set_password(store, "gl", "Second-passw0rd", actor="root")
    A.set_scope(store, "gl", grid_codes=("G3",), actor="root")
    A.disable_user(store, "gl", actor="root")
    A.enable_user(store, "gl", actor="root")
    S.authenticate(store, "gl", "Second-passw0rd")
    with pytest.raises(S.SignInError):
        S.authenticate(store, "gl", "Wrong-passw0rd")
    with pytest.raises(S.SignInError):
        S.authenticate(store, "Wrong-passw0rd", "gl")  # name and password swapped
    log = AU.read_audit(store)
    assert log["action"].tolist()[::-1] == ["user_add", "user_add", "user_passwd", "user_scope", "user_disable",
                                             "user_enable", "sign_in", "sign_in_failed", "sign_in_failed"]
    assert log["actor"].tolist()[::-1][:6] == ["setup", "root", "root", "root", "root", "root"]
    assert set(log["target"].iloc[1:-1]) == {"gl"} and log["target"].iloc[-1] == "root"
    assert log["at"].dt.tz is not None and str(log["at"].dt.tz) == "Asia/Shanghai"
    assert log["at"].is_monotonic_decreasing
    scope = json.loads(log.loc[log["action"] == "user_scope", "detail"].iloc[0])
    assert scope == {"role": "grid_leader", "scope": "grids G3", "was_role": "grid_leader"}
    text = _audit_text(store) + _users_text(store) + caplog.text
    for secret in (PW, "Second-passw0rd"):
        assert secret not in text
    assert "Wrong-passw0rd" not in caplog.text


def test_audit_masks_personal_data_and_cuts_strings(store):
    AU.audit(store, "planner1", "export", target="tickets 13812345678.csv", rows=12, masked=False,
            detail={"query": "张三 13812345678", "ids": ["110101199003071234"], "long": "x" * 500, "n": 3,
                    "nested": {"phone": "13987654321"}, "ok": True, "none": None})
    row = AU.read_audit(store).iloc[0]
    assert (row["actor"], row["action"], row["rows"], row["masked"]) == ("planner1", "export", 12, 0)
    assert "13812345678" not in row["target"] and "138****5678" in row["target"]
    detail = json.loads(row["detail"])
    assert "13812345678" not in row["detail"] and "13987654321" not in row["detail"]
    assert "110101199003071234" not in row["detail"]
    assert len(detail["long"]) == 200 and detail["n"] == 3 and detail["ok"] is True and detail["none"] is None
    with pytest.raises(TypeError):
        AU.audit(store, "x", "export", detail="not a dict")


def test_read_audit_filters(store):
    for i, (actor, action) in enumerate([("a", "sign_in"), ("b", "sign_in"), ("a", "export"), ("a", "sign_in")]):
        AU.audit(store, actor, action, now=T0 + pd.Timedelta(hours=i))
    assert len(AU.read_audit(store)) == 4
    assert AU.read_audit(store, limit=2)["at"].tolist() == [T0 + pd.Timedelta(hours=3), T0 + pd.Timedelta(hours=2)]
    assert AU.read_audit(store, actor="a", action="sign_in")["at"].tolist() == [T0 + pd.Timedelta(hours=3), T0]
    assert len(AU.read_audit(store, since=T0 + pd.Timedelta(hours=1))) == 3
    assert len(AU.read_audit(store, since="2025-03-01 10:00")) == 3  # naive is local
    assert list(AU.read_audit(store).columns) == ["id", "at", "actor", "action", "target", "rows", "masked", "detail"]


def test_account_writes_leave_data_version_alone(store):
    before = store.data_version()
    A.add_user(store, "alice", "planner", PW)
    S.authenticate(store, "alice", PW)
    AU.audit(store, "alice", "export", rows=1)
    assert store.data_version() == before


def test_failed_sign_in_name_is_cleaned_and_masked(store):
    with pytest.raises(S.SignInError):
        S.authenticate(store, "138\x0012345678" + "x" * 100, PW, now=T0)
    actor = AU.read_audit(store)["actor"].iloc[0]
    assert "\x00" not in actor and len(actor) <= 64 and "12345678" not in actor


# -- the demo's accounts ------------------------------------------------------------------------------------
def test_demo_users_one_per_role_and_idempotent(store):
    created = D.demo_users(store)
    assert [(n, r) for n, r, _ in created] == [("admin", "admin"), ("planner", "planner"),
                                              ("gridleader", "grid_leader"), ("meeting", "meeting")]
    assert all(len(p) >= A.MIN_PASSWORD for _, _, p in created)
    assert len({p for _, _, p in created}) == 4
    # the current grid with the most tickets: G3 (G4 has more but was retired in 2025-07)
    assert A.get_account(store, "gridleader").grid_codes == ("G3",)
    for name, _, password in created:
        assert S.authenticate(store, name, password).name == name
    assert D.demo_users(store) == []
    store.update_user("planner", disabled=True)
    with store.transaction() as con:
        con.execute("DELETE FROM users WHERE name = 'meeting'")
    again = D.demo_users(store)
    assert [n for n, _, _ in again] == ["meeting"]
    assert all(p not in _audit_text(store) for _, _, p in created + again)


def test_demo_users_seeded_passwords_are_reproducible(tmp_path, url):
    with open_store(url) as s:
        first = D.demo_users(s, seed=7)
    with open_store(f"sqlite:///{tmp_path}/b.sqlite") as s:
        assert D.demo_users(s, seed=7)[:2] == first[:2]  # no grids there: no grid leader


# -- the schema ---------------------------------------------------------------------------------------------
def test_migration_upgrades_a_store_of_the_previous_version(tmp_path, tiny_units, monkeypatch):
    import sqlite3

    from minqing.store.sqlite import store as sq

    every = sq._migrations()
    latest = every[-1][0]
    assert 4 in [v for v, _ in every]  # the accounts migration; later ones (9: an index dropped) apply after it
    u = f"sqlite:///{tmp_path}/old.sqlite"
    monkeypatch.setattr(sq, "_migrations", lambda: [m for m in every if m[0] < 4])
    with open_store(u) as s:
        s.write_units(tiny_units.drop(columns="unit_uid"))
        s.write_tickets(make_tickets([(X0 + 0.005, Y0 + 0.005)], ["2025-01-01 08:00"]))
        assert s.schema_version() == 3
    monkeypatch.setattr(sq, "_migrations", lambda: every)
    with open_store(u) as s:
        assert s.schema_version() == latest
        assert s.ticket_count() == 1 and len(s.read_units()) == len(tiny_units)
        assert s.read_users().empty and s.read_audit().empty
        A.add_user(s, "gl", "grid_leader", PW, grid_codes=("G1",))
    con = sqlite3.connect(tmp_path / "old.sqlite")
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")}
    con.close()
    assert {"users", "audit_log", "audit_log_at", "tickets", "units"} <= tables


# -- the command line -------------------------------------------------------------------------------------
def _run(url, *argv) -> int:
    return main(["--db", url, *argv])


def test_cli_user_add_with_password_stdin(url, capsys, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr("sys.stdin", io.StringIO(PW + "\n"))
    assert _run(url, "user", "add", "gl", "--role", "grid_leader", "--grid", "G1", "--community", "C2",
                "--password-stdin") == 0
    out = capsys.readouterr()
    assert "added user gl (grid_leader, grid:G1 community:C2)" in out.out
    assert _run(url, "user", "list") == 0
    listing = capsys.readouterr()
    lines = listing.out.splitlines()
    assert lines[0] == "name\trole\tscope\tstatus\tlast sign-in"
    assert lines[1].split("\t") == ["gl", "grid_leader", "grid:G1 community:C2", "active", "-"]
    assert "argon2" not in listing.out and "$" not in listing.out
    with open_store(url) as s:
        assert S.authenticate(s, "gl", PW).name == "gl"
        assert AU.read_audit(s)["action"].tolist() == ["sign_in", "user_add"]
        assert AU.read_audit(s)["actor"].iloc[1].startswith("cli")
        audit = _audit_text(s)
    assert PW not in out.out + out.err + listing.out + listing.err + audit + caplog.text


def test_cli_user_add_with_getpass(url, capsys, monkeypatch):
    typed = iter([PW, PW])
    prompts = []
    monkeypatch.setattr("getpass.getpass", lambda prompt="": prompts.append(prompt) or next(typed))
    assert _run(url, "user", "add", "alice", "--role", "planner") == 0
    assert len(prompts) == 2
    out = capsys.readouterr()
    assert PW not in out.out + out.err
    with open_store(url) as s:
        assert S.authenticate(s, "alice", PW).role == "planner"


def test_cli_getpass_mismatch_changes_nothing(url, capsys, monkeypatch):
    typed = iter([PW, PW + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    assert _run(url, "user", "add", "alice", "--role", "planner") == 2
    err = capsys.readouterr().err
    assert "differ" in err and PW not in err
    with open_store(url) as s:
        assert A.list_users(s) == []


def test_cli_errors_are_one_line_without_the_password(url, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert _run(url, "user", "add", "alice", "--role", "planner", "--password-stdin") == 2
    err = capsys.readouterr().err
    assert "at least 10" in err and "short" not in err
    monkeypatch.setattr("sys.stdin", io.StringIO(PW + "\n"))
    assert _run(url, "user", "add", "gl", "--role", "grid_leader", "--grid", "G99", "--password-stdin") == 2
    err = capsys.readouterr().err
    assert "G99" in err and "minqing info" in err and PW not in err
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert _run(url, "user", "add", "alice", "--role", "planner", "--password-stdin") == 2
    assert "standard input" in capsys.readouterr().err
    assert _run(url, "user", "passwd", "nobody", "--password-stdin") == 2
    assert "no account named 'nobody'" in capsys.readouterr().err


def test_cli_passwd_disable_enable_and_list(url, capsys, monkeypatch):
    with open_store(url) as s:
        A.add_user(s, "alice", "planner", PW)
    monkeypatch.setattr("sys.stdin", io.StringIO("Brand-new-passw0rd\r\n"))
    assert _run(url, "user", "passwd", "alice", "--password-stdin") == 0
    assert _run(url, "user", "disable", "alice") == 0
    assert _run(url, "user", "list") == 0
    out = capsys.readouterr().out
    assert "alice\tplanner\tall\tdisabled\t-" in out and "Brand-new" not in out
    assert _run(url, "user", "enable", "alice") == 0
    with open_store(url) as s:
        assert S.authenticate(s, "alice", "Brand-new-passw0rd").name == "alice"
        for _ in range(S.LOCK_AFTER):
            with pytest.raises(S.SignInError):
                S.authenticate(s, "alice", "wrong-password")
    capsys.readouterr()
    assert _run(url, "user", "list") == 0
    assert "\tlocked until " in capsys.readouterr().out
    assert _run(url, "audit", "list", "--action", "sign_in_failed", "--limit", "3") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("at\tactor\taction") and len(out) == 4
    assert all("\tsign_in_failed\t" in line for line in out[1:])


def test_cli_audit_export(url, tmp_path, capsys):
    with open_store(url) as s:
        A.add_user(s, "alice", "planner", PW)
        AU.audit(s, "alice", "export", target="=HYPERLINK(\"x\")", rows=5, masked=True)
    out = tmp_path / "audit.csv"
    assert _run(url, "audit", "export", "-o", str(out)) == 0
    assert "wrote 2 audit rows" in capsys.readouterr().out
    df = pd.read_csv(out, encoding="utf-8-sig")
    assert df["action"].tolist() == ["export", "user_add"]
    assert not df["target"].astype(str).str.startswith("=").any()  # formula cells neutralised
    assert _run(url, "audit", "export", "-o", str(tmp_path / "audit.xlsx"), "--format", "xlsx") == 0
    assert pd.read_excel(tmp_path / "audit.xlsx", engine="openpyxl")["action"].tolist()[0] == "export"  # the csv export, audited
    with open_store(url) as s:
        exports = AU.read_audit(s, action="export", actor=AU.read_audit(s)["actor"].iloc[0])
        assert exports.iloc[0]["target"] == "audit_log" and exports.iloc[0]["rows"] == 3


def test_cli_demo_if_missing_creates_the_demo_users_once(url, tmp_path, capsys):
    assert _run(url, "demo", "--if-missing") == 0
    out = capsys.readouterr().out
    assert "already filled" in out and "演示账号 / demo users" in out
    path = tmp_path / "demo_users.txt"
    assert f"saved to {path}" in out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = [ln.split("\t") for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    assert [ln[:2] for ln in lines] == [["admin", "admin"], ["planner", "planner"],
                                        ["gridleader", "grid_leader"], ["meeting", "meeting"]]
    for name, _, password in lines:
        assert f"{name} / {password}" in out
    with open_store(url) as s:
        for name, _, password in lines:
            assert S.authenticate(s, name, password).name == name
    # a second run creates nothing and shows no password, but says where they are
    assert _run(url, "demo", "--if-missing") == 0
    out = capsys.readouterr().out
    assert "exist already" in out and str(path) in out
    assert not any(password in out for _, _, password in lines)
    # one account removed: only it is made again, the file keeps the others
    with open_store(url) as s, s.transaction() as con:
        con.execute("DELETE FROM users WHERE name = 'meeting'")
    assert _run(url, "demo", "--if-missing") == 0
    out = capsys.readouterr().out
    assert "meeting / " in out and "admin / " not in out
    again = [ln.split("\t") for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#")]
    assert again[:3] == lines[:3] and again[3][0] == "meeting" and again[3][2] != lines[3][2]


def test_cli_demo_build_creates_the_demo_users(tmp_path, tiny_units, capsys, monkeypatch):
    from minqing.demo import build as demo_build

    def fake_build(store, **kw):
        store.write_units(tiny_units.drop(columns="unit_uid"))
        return demo_build.BuildReport(units=len(tiny_units))

    monkeypatch.setattr(demo_build, "build_demo", fake_build)
    u = f"sqlite:///{tmp_path}/fresh/demo.sqlite"
    assert _run(u, "demo") == 0
    out = capsys.readouterr().out
    assert "demo built in" in out and "admin / " in out and "gridleader / " in out
    assert (tmp_path / "fresh" / "demo_users.txt").exists()
    with open_store(u) as s:
        assert A.get_account(s, "gridleader").grid_codes == ("G1",)  # no tickets: the first current grid
