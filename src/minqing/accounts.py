"""User accounts, sign-in and the audit log.

Accounts live in the store (table ``users``) with an argon2id hash of the
password, never the password itself. :func:`authenticate` gives one generic
error for an unknown name and a wrong password alike, locks an account for
:data:`LOCK_MINUTES` after :data:`LOCK_AFTER` failures, and records every
attempt in the audit log. :func:`audit` writes one audit row; it never holds
callers' personal data (strings are masked with
:func:`minqing.privacy.mask_text`) and never a password.

Every function takes the store first and is free of Streamlit; the sign-in
page and the ``minqing user`` / ``minqing audit`` commands are thin layers
over them.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from minqing.errors import MinqingError
from minqing.model import TIMEZONE
from minqing.store.base import Store

__all__ = [
    "DEMO_USERS_FILE",
    "LOCK_AFTER",
    "LOCK_MINUTES",
    "MAX_PASSWORD",
    "MIN_PASSWORD",
    "ROLES",
    "SESSION_HOURS",
    "Account",
    "AccountError",
    "AccountScopeError",
    "DisabledError",
    "LockedError",
    "PasswordPolicyError",
    "SignInError",
    "UnknownUserError",
    "UserExistsError",
    "account_grid_codes",
    "add_user",
    "audit",
    "authenticate",
    "clean_name",
    "demo_users",
    "demo_users_path",
    "disable_user",
    "enable_user",
    "get_account",
    "list_users",
    "read_audit",
    "set_password",
    "set_scope",
    "write_demo_users_file",
]

ROLES = ("admin", "planner", "grid_leader", "meeting")
"""The roles an account can have (see issue 11: admin, planner, grid leader, meeting viewer)."""
LOCK_AFTER = 5
"""Failed sign-ins in a row that lock an account."""
LOCK_MINUTES = 15
"""How long a locked account stays locked."""
MIN_PASSWORD = 10
"""The shortest password accepted, in characters."""
MAX_PASSWORD = 1024
"""The longest password accepted, in characters (a bound on the work of one hash)."""
SESSION_HOURS = 8
"""A signed-in session expires after this many idle hours (applied by the UI)."""
NAME_MAX = 64
"""The longest account name, in characters."""
DETAIL_MAX = 200
"""Audit strings (target, detail values) are cut to this many characters."""
DEMO_USERS_FILE = "demo_users.txt"
"""The file beside an SQLite store where :func:`write_demo_users_file` keeps the demo passwords."""

_DEMO_NAMES = (("admin", "admin"), ("planner", "planner"), ("gridleader", "grid_leader"), ("meeting", "meeting"))
_dummy_hash: str | None = None


# -- errors -----------------------------------------------------------------------------------------
class AccountError(MinqingError, ValueError):
    """An account operation was refused: bad name, role, scope or password, or an unknown account."""

    key = "accounts.error_account"


class UnknownUserError(AccountError, LookupError):
    """No account has this name."""

    key = "accounts.error_unknown_user"


class UserExistsError(AccountError):
    """An account with this name exists already."""

    key = "accounts.error_user_exists"


class PasswordPolicyError(AccountError):
    """A new password is too short, too long, equal to the name or one repeated character."""

    key = "accounts.error_password_short"


class AccountScopeError(AccountError):
    """A role and its grids / communities do not fit together, or a unit code is unknown."""

    key = "accounts.error_scope"


class SignInError(MinqingError, PermissionError):
    """Sign-in refused: wrong name or password (one message for both, on purpose)."""

    key = "accounts.error_sign_in"


class LockedError(SignInError):
    """Sign-in refused: too many failures, the account is locked for some minutes."""

    key = "accounts.error_locked"


class DisabledError(SignInError):
    """Sign-in refused: the account is disabled."""

    key = "accounts.error_disabled"


def _sign_in_error() -> SignInError:
    return SignInError("wrong name or password", key="accounts.error_sign_in")


# -- the account record ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Account:
    """One account as the app sees it (no password hash).

    Attributes
    ----------
    name : str
    role : str
        One of :data:`ROLES`.
    grid_codes, community_codes : tuple of str
        A grid leader's scope (empty for other roles).
    disabled : bool
    locked_until : Timestamp or None
        Local time until which sign-in is refused; None when not locked.
    failed_count : int
        Failed sign-ins since the last success.
    created_at, last_sign_in_at : Timestamp or None
        Local times.
    """

    name: str
    role: str
    grid_codes: tuple[str, ...]
    community_codes: tuple[str, ...]
    disabled: bool
    locked_until: pd.Timestamp | None
    failed_count: int
    created_at: pd.Timestamp | None
    last_sign_in_at: pd.Timestamp | None

    def is_locked(self, now=None) -> bool:
        """Return True while the account is locked at ``now`` (default: the current time)."""
        return self.locked_until is not None and self.locked_until > _now(now)


def _opt_time(value) -> pd.Timestamp | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value)


def _codes(value) -> tuple[str, ...]:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ()
    if isinstance(value, str):
        value = json.loads(value or "[]")
    return tuple(str(v) for v in value)


def _account(row) -> Account:
    return Account(
        name=str(row["name"]),
        role=str(row["role"]),
        grid_codes=_codes(row["grid_codes"]),
        community_codes=_codes(row["community_codes"]),
        disabled=bool(row["disabled"]),
        locked_until=_opt_time(row["locked_until"]),
        failed_count=int(row["failed_count"]),
        created_at=_opt_time(row["created_at"]),
        last_sign_in_at=_opt_time(row["last_sign_in_at"]),
    )


def _row(store: Store, name: str) -> dict | None:
    hit = store.read_users(name)  # one row: this runs on every click of a signed-in session
    return None if hit.empty else hit.iloc[0].to_dict()


def _require(store: Store, name: str) -> dict:
    row = _row(store, name)
    if row is None:
        raise UnknownUserError(
            f"no account named {clean_name(name)!r}; `minqing user list` shows the accounts",
            key="accounts.error_unknown_user",
            name=clean_name(name),
        )
    return row


# -- small helpers -------------------------------------------------------------------------------------
def _now(now=None) -> pd.Timestamp:
    """``now`` (naive means local time) or the current time, as a tz-aware local timestamp."""
    ts = pd.Timestamp.now(tz=TIMEZONE) if now is None else pd.Timestamp(now)
    return ts.tz_localize(TIMEZONE) if ts.tzinfo is None else ts.tz_convert(TIMEZONE)


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch).startswith("C")


def clean_name(name, limit: int = NAME_MAX) -> str:
    """Return ``name`` as it may be shown or logged: control characters removed, cut to ``limit`` characters.

    Parameters
    ----------
    name : object
        A name as typed (anything; None gives "").
    limit : int, default :data:`NAME_MAX`
    """
    text = "" if name is None else str(name)
    return "".join(ch for ch in text if not _is_control(ch))[:limit]


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()  # argon2-cffi's defaults: argon2id, RFC 9106 low-memory profile


def _hash(password: str) -> str:
    return _hasher().hash(password)


def _verify(password_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _verify_dummy(password: str) -> None:
    """Spend the time of one verification, so an unknown name answers as slowly as a wrong password."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hash(secrets.token_urlsafe(16))
    _verify(_dummy_hash, password)


def _check_name(name) -> str:
    if not isinstance(name, str) or not name:
        raise AccountError("an account name must not be empty", key="accounts.error_name_empty")
    if len(name) > NAME_MAX:
        raise AccountError(
            f"the account name is {len(name)} characters long; at most {NAME_MAX} are allowed",
            key="accounts.error_name_long", length=len(name), limit=NAME_MAX,
        )
    if any(_is_control(ch) for ch in name) or name != name.strip():
        raise AccountError(
            f"the account name {clean_name(name)!r} holds control characters or leading/trailing spaces; "
            "use letters, digits, '.', '_' or '-'",
            key="accounts.error_name_chars", name=clean_name(name),
        )
    return name


def _check_password(name: str, password) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        n = len(password) if isinstance(password, str) else 0
        raise PasswordPolicyError(
            f"the password has {n} characters; at least {MIN_PASSWORD} are needed",
            key="accounts.error_password_short", length=n, minimum=MIN_PASSWORD,
        )
    if len(password) > MAX_PASSWORD:
        raise PasswordPolicyError(
            f"the password has {len(password)} characters; at most {MAX_PASSWORD} are allowed",
            key="accounts.error_password_long", length=len(password), maximum=MAX_PASSWORD,
        )
    if password.casefold() == name.casefold():
        raise PasswordPolicyError("the password must not be the account name; choose another",
                                  key="accounts.error_password_name", name=clean_name(name))
    if len(set(password)) == 1:
        raise PasswordPolicyError("the password must not be one character repeated; choose another",
                                  key="accounts.error_password_repeated")
    return password


def _check_role(role) -> str:
    if role not in ROLES:
        raise AccountScopeError(
            f"unknown role {clean_name(role)!r}; allowed: {', '.join(ROLES)}",
            key="accounts.error_role", role=clean_name(role), allowed=", ".join(ROLES),
        )
    return role


def _norm_codes(codes) -> tuple[str, ...]:
    if codes is None:
        return ()
    if isinstance(codes, str):
        codes = [codes]
    out = []
    for c in codes:
        for part in str(c).split(","):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return tuple(out)


def _check_scope(store: Store, role: str, grid_codes, community_codes) -> tuple[tuple[str, ...], tuple[str, ...]]:
    grids, communities = _norm_codes(grid_codes), _norm_codes(community_codes)
    if role != "grid_leader":
        if grids or communities:
            raise AccountScopeError(
                f"the role {role} sees all units; give grids or communities only to a grid_leader",
                key="accounts.error_scope_not_leader", role=role,
            )
        return (), ()
    if not grids and not communities:
        raise AccountScopeError(
            "a grid_leader needs at least one grid (--grid CODE) or community (--community CODE); "
            "`minqing info` lists the units",
            key="accounts.error_scope_empty",
        )
    for level, codes in (("grid", grids), ("community", communities)):
        if not codes:
            continue
        known = set(store.read_units(level=level)["code"].astype(str))
        for code in codes:
            if code not in known:
                raise AccountScopeError(
                    f"there is no {level} with code {clean_name(code)!r} in the store; "
                    "`minqing info` lists the units (use codes, not names)",
                    key=f"accounts.error_unknown_{level}", code=clean_name(code),
                )
    return grids, communities


def _scope_text(grids, communities) -> str:
    parts = []
    if grids:
        parts.append("grids " + ",".join(grids))
    if communities:
        parts.append("communities " + ",".join(communities))
    return "; ".join(parts) or "all units"


def _enabled_admins(store: Store) -> list[str]:
    users = store.read_users()
    return users.loc[(users["role"] == "admin") & ~users["disabled"], "name"].tolist()


def _guard_last_admin(store: Store, name: str, row: dict, what: str) -> None:
    if row["role"] == "admin" and not bool(row["disabled"]) and _enabled_admins(store) == [name]:
        raise AccountError(
            f"{clean_name(name)!r} is the only enabled admin; add or enable another admin before you {what} it",
            key="accounts.error_last_admin", name=clean_name(name),
        )


# -- managing accounts ------------------------------------------------------------------------------
def add_user(store: Store, name: str, role: str, password: str, grid_codes=(), community_codes=(),
             actor: str = "cli") -> Account:
    """Create an account with an argon2id hash of ``password``.

    Parameters
    ----------
    store : Store
    name : str
        1 to 64 characters, no control characters, not taken yet.
    role : str
        One of :data:`ROLES`.
    password : str
        At least :data:`MIN_PASSWORD` characters, not the name, not one repeated character.
    grid_codes, community_codes : iterable of str
        A grid leader's grids and communities (at least one code; each must be a unit
        of that level in the store). Other roles must have none.
    actor : str, default "cli"
        Who does it (for the audit log).

    Returns
    -------
    Account

    Raises
    ------
    AccountError
        Bad or taken name (:class:`UserExistsError`), bad role or scope
        (:class:`AccountScopeError`), or a weak password (:class:`PasswordPolicyError`).
    """
    _check_name(name)
    _check_role(role)
    if _row(store, name) is not None:
        raise UserExistsError(f"an account named {name!r} exists already; `minqing user list` shows the accounts",
                              key="accounts.error_user_exists", name=name)
    grids, communities = _check_scope(store, role, grid_codes, community_codes)
    _check_password(name, password)
    now = _now()
    store.write_user({
        "name": name, "role": role, "grid_codes": list(grids), "community_codes": list(communities),
        "password_hash": _hash(password), "disabled": False, "failed_count": 0, "locked_until": None,
        "password_changed_at": now, "created_at": now, "last_sign_in_at": None,
    })
    audit(store, actor, "user_add", target=name, detail={"role": role, "scope": _scope_text(grids, communities)})
    return get_account(store, name)


def set_password(store: Store, name: str, password: str, actor: str) -> Account:
    """Replace the password of ``name`` (same policy as :func:`add_user`); also clears a lockout.

    Raises
    ------
    UnknownUserError, PasswordPolicyError
    """
    _require(store, name)
    _check_password(name, password)
    store.update_user(name, password_hash=_hash(password), password_changed_at=_now(), failed_count=0,
                      locked_until=None)
    audit(store, actor, "user_passwd", target=name)
    return get_account(store, name)


def disable_user(store: Store, name: str, actor: str) -> Account:
    """Refuse every further sign-in of ``name`` (the account and its audit trail stay).

    Raises
    ------
    UnknownUserError
    AccountError
        When ``name`` is the last enabled admin.
    """
    row = _require(store, name)
    _guard_last_admin(store, name, row, "disable")
    store.update_user(name, disabled=True)
    audit(store, actor, "user_disable", target=name)
    return get_account(store, name)


def enable_user(store: Store, name: str, actor: str) -> Account:
    """Allow ``name`` to sign in again, and clear any lockout.

    Raises
    ------
    UnknownUserError
    """
    _require(store, name)
    store.update_user(name, disabled=False, failed_count=0, locked_until=None)
    audit(store, actor, "user_enable", target=name)
    return get_account(store, name)


def set_scope(store: Store, name: str, role: str | None = None, grid_codes=None, community_codes=None, *,
              actor: str) -> Account:
    """Change the role and/or the grids and communities of ``name``.

    Parameters
    ----------
    store : Store
    name : str
    role : str, optional
        The new role; unchanged when None. Moving away from grid_leader clears the
        codes unless new ones are given (which is then an error).
    grid_codes, community_codes : iterable of str, optional
        The new codes; unchanged when None (for a grid leader staying one).
    actor : str
        Who does it (for the audit log).

    Raises
    ------
    UnknownUserError, AccountScopeError
    AccountError
        When the last enabled admin would lose the admin role.
    """
    row = _require(store, name)
    new_role = _check_role(row["role"] if role is None else role)
    if new_role != "grid_leader" and row["role"] == "grid_leader":
        old_grids, old_comms = (), ()
    else:
        old_grids, old_comms = _codes(row["grid_codes"]), _codes(row["community_codes"])
    grids = old_grids if grid_codes is None else grid_codes
    communities = old_comms if community_codes is None else community_codes
    grids, communities = _check_scope(store, new_role, grids, communities)
    if new_role != "admin":
        _guard_last_admin(store, name, row, "change the role of")
    store.update_user(name, role=new_role, grid_codes=list(grids), community_codes=list(communities))
    audit(store, actor, "user_scope", target=name,
          detail={"role": new_role, "scope": _scope_text(grids, communities), "was_role": row["role"]})
    return get_account(store, name)


def list_users(store: Store) -> list[Account]:
    """Return every account, ordered by name (never the hashes)."""
    return [_account(r) for _, r in store.read_users().iterrows()]


def get_account(store: Store, name: str) -> Account | None:
    """Return the account ``name``, or None when there is none."""
    row = _row(store, name) if isinstance(name, str) else None
    return None if row is None else _account(row)


def account_grid_codes(store: Store, account: Account) -> tuple[str, ...]:
    """Return the grids an account may see: its grids plus every grid of its communities (all versions).

    Empty for roles other than grid_leader (they are not limited to grids).
    """
    if account.role != "grid_leader":
        return ()
    from minqing.auth import User, scope_grids

    user = User("grid_leader", account.grid_codes, name=account.name, community_codes=account.community_codes)
    return scope_grids(user, store.read_units(level="grid"))


# -- sign-in -------------------------------------------------------------------------------------------
def authenticate(store: Store, name: str, password: str, now=None) -> Account:
    """Check a name and password; return the account or raise.

    Parameters
    ----------
    store : Store
    name, password : str
        As typed.
    now : Timestamp, optional
        The time of the attempt (naive means local); default the current time.

    Returns
    -------
    Account
        After a success: failed count reset, last sign-in set, the hash renewed if
        argon2-cffi's parameters have changed since it was made.

    Raises
    ------
    SignInError
        Unknown name or wrong password (the same message for both; an unknown name
        still costs one hash verification so the timing tells nothing).
    LockedError
        :data:`LOCK_AFTER` failures in a row lock the account for :data:`LOCK_MINUTES`;
        while locked even the right password is refused.
    DisabledError
        The right password of a disabled account.
    """
    now = _now(now)
    who = clean_name(name)
    password = password if isinstance(password, str) else ""
    row = _row(store, name) if isinstance(name, str) and name else None
    if row is None:
        _verify_dummy(password)
        # what was typed as a name may be a password typed in the wrong field: never recorded
        audit(store, "(unknown)", "sign_in_failed", detail={"reason": "unknown_name"}, now=now)
        raise _sign_in_error()
    locked_until = _opt_time(row["locked_until"])
    failed = int(row["failed_count"])
    if locked_until is not None and locked_until > now:
        _verify(row["password_hash"], password)  # same work as any attempt; the answer does not matter
        minutes = max(1, math.ceil((locked_until - now).total_seconds() / 60))
        audit(store, who, "sign_in_locked", target=name, detail={"minutes_left": minutes}, now=now)
        raise _locked(minutes)
    if locked_until is not None:  # the lock has run out: a fresh start
        failed = 0
    if not _verify(row["password_hash"], password):
        failed += 1
        lock = failed >= LOCK_AFTER
        store.update_user(name, failed_count=failed,
                          locked_until=now + pd.Timedelta(minutes=LOCK_MINUTES) if lock else None)
        detail = {"reason": "wrong_password", "failed_count": failed}
        if lock:
            detail["locked_minutes"] = LOCK_MINUTES
        audit(store, who, "sign_in_failed", target=name, detail=detail, now=now)
        raise _locked(LOCK_MINUTES) if lock else _sign_in_error()
    if bool(row["disabled"]):
        audit(store, who, "sign_in_failed", target=name, detail={"reason": "disabled"}, now=now)
        raise DisabledError(f"the account {who!r} is disabled; ask an administrator to enable it",
                            key="accounts.error_disabled", name=who)
    fields = {"failed_count": 0, "locked_until": None, "last_sign_in_at": now}
    if _hasher().check_needs_rehash(row["password_hash"]):
        fields["password_hash"] = _hash(password)
    store.update_user(name, **fields)
    audit(store, who, "sign_in", target=name, detail={"rehashed": True} if "password_hash" in fields else None,
          now=now)
    return get_account(store, name)


def _locked(minutes: int) -> LockedError:
    return LockedError(
        f"too many failed sign-ins: the account is locked; try again in {minutes} minute(s) "
        "or ask an administrator to enable it",
        key="accounts.error_locked", minutes=minutes,
    )


# -- the audit log ----------------------------------------------------------------------------------
def _safe_text(value, limit: int = DETAIL_MAX) -> str | None:
    from minqing.privacy import mask_text

    if value is None:
        return None
    masked = mask_text("".join(ch for ch in str(value) if not _is_control(ch)))
    return None if masked is None else masked[:limit]


def _safe_value(value, depth: int = 0):
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if depth < 3 and isinstance(value, dict):
        return {_safe_text(k, NAME_MAX): _safe_value(v, depth + 1) for k, v in list(value.items())[:50]}
    if depth < 3 and isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else list(value)
        return [_safe_value(v, depth + 1) for v in items[:50]]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):  # numpy scalars
        try:
            return _safe_value(value.item(), depth)
        except (TypeError, ValueError):
            pass
    return _safe_text(value)


def audit(store: Store, actor, action: str, target=None, rows=None, masked=None, detail=None, *, now=None) -> None:
    """Append one row to the audit log: who did what, when, to what, how many rows, masked or not.

    Parameters
    ----------
    store : Store
    actor : str or None
        The user name (control characters removed, cut to 64 characters).
    action : str
        What happened, e.g. ``sign_in``, ``sign_in_failed``, ``user_add``, ``import``,
        ``intervention_edit``, ``export``.
    target : str, optional
        What it was done to (a user name, a file name, an intervention id).
    rows : int, optional
        How many rows were read, written or exported.
    masked : bool, optional
        Whether an export masked callers' personal data.
    detail : dict, optional
        More about it, stored as JSON. Never callers' personal data and never a
        password: every string in it (and ``actor`` and ``target``) goes through
        :func:`minqing.privacy.mask_text` and is cut to 200 characters.
    now : Timestamp, optional
        The time of the event; default the current time.
    """
    if detail is not None and not isinstance(detail, dict):
        raise TypeError(f"audit detail must be a dict, not {type(detail).__name__}")
    store.write_audit({
        "at": _now(now),
        "actor": _safe_text(clean_name(actor), NAME_MAX) if actor is not None else None,
        "action": clean_name(action),
        "target": _safe_text(target),
        "rows": None if rows is None else int(rows),
        "masked": None if masked is None else int(bool(masked)),
        "detail": None if not detail else json.dumps(_safe_value(detail), ensure_ascii=False, sort_keys=True),
    })


def read_audit(store: Store, limit: int | None = 1000, actor: str | None = None, action: str | None = None,
               since=None) -> pd.DataFrame:
    """Return audit rows newest first (columns id, at, actor, action, target, rows, masked, detail).

    See :meth:`minqing.store.base.Store.read_audit`; ``at`` is a local timestamp and
    ``detail`` the JSON text.
    """
    return store.read_audit(limit=limit, actor=actor, action=action, since=since)


# -- the demo's accounts ---------------------------------------------------------------------------------
def _demo_password(seed: int | None, i: int) -> str:
    if seed is None:
        return secrets.token_urlsafe(9)
    import base64
    import random

    return base64.urlsafe_b64encode(random.Random(f"{seed}:{i}").randbytes(9)).decode("ascii")


def _demo_grid(store: Store) -> str | None:
    """The current grid with the most tickets (ties: the smallest code); None without grids."""
    current = store.read_units(level="grid", at=pd.Timestamp.now(tz=store.timezone).date())
    codes = sorted(set(current["code"].astype(str)))
    if not codes:
        return None
    counts = store.count_tickets("grid")
    counts = counts[counts["code"].astype(str).isin(codes)]
    if counts.empty or int(counts["tickets"].max()) == 0:
        return codes[0]
    counts = counts.assign(code=counts["code"].astype(str)).sort_values(["tickets", "code"], ascending=[False, True])
    return str(counts["code"].iloc[0])


def demo_users(store: Store, seed: int | None = None) -> list[tuple[str, str, str]]:
    """Create the demo's accounts that are missing: one per role (admin, planner, gridleader, meeting).

    The grid leader gets one grid: the current grid with the most tickets. Passwords
    are random (``secrets.token_urlsafe(9)``), or derived from ``seed`` for tests.

    Parameters
    ----------
    store : Store
    seed : int, optional
        Make the passwords reproducible (tests only: a seeded password is no secret).

    Returns
    -------
    list of (name, role, password)
        The accounts created now; empty when they all existed. The only place these
        passwords ever appear: show them once and keep them (:func:`write_demo_users_file`).
    """
    created = []
    for i, (name, role) in enumerate(_DEMO_NAMES):
        if _row(store, name) is not None:
            continue
        grids = ()
        if role == "grid_leader":
            grid = _demo_grid(store)
            if grid is None:
                continue
            grids = (grid,)
        password = _demo_password(seed, i)
        while len(set(password)) == 1:  # the policy; practically never
            password = _demo_password(None, i)
        add_user(store, name, role, password, grid_codes=grids, actor="demo")
        created.append((name, role, password))
    return created


def demo_users_path(store: Store) -> Path | None:
    """Return the ``demo_users.txt`` beside an SQLite store (None for a store without a file)."""
    path = getattr(store, "path", None)
    return None if path is None else Path(path).with_name(DEMO_USERS_FILE)


def write_demo_users_file(store: Store, created: list[tuple[str, str, str]]) -> Path | None:
    """Write the demo accounts and passwords to :func:`demo_users_path` (mode 0600); return the path.

    Accounts already in the file and not created now keep their line.
    """
    path = demo_users_path(store)
    if path is None or not created:
        return path if path is not None and path.exists() else None
    lines: dict[str, str] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#") and "\t" in line:
                lines[line.split("\t", 1)[0]] = line
    for name, role, password in created:
        lines[name] = f"{name}\t{role}\t{password}"
    text = ("# Minqing Map demo users (演示账号): name, role, password. Only for the demo store; "
            "change them (minqing user passwd NAME) or disable them before real use.\n"
            + "".join(line + "\n" for line in lines.values()))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)
    return path
