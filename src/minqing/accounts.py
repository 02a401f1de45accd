"""User accounts: names, roles, scopes and argon2id password hashes.

Accounts live in the store (table ``users``) with an argon2id hash of the
password, never the password itself. :func:`add_user`, :func:`set_password`,
:func:`disable_user`, :func:`enable_user` and :func:`set_scope` check their
input (the password policy, the name rules, a grid leader's grids and
communities, never the last enabled admin) and record what they did with
:func:`minqing.audit.audit`. Signing in is :func:`minqing.signin.authenticate`.

Every function takes the store first and is free of Streamlit; the admin page
and the ``minqing user`` commands are thin layers over them.
"""

from __future__ import annotations

import json
import math
import secrets
from dataclasses import dataclass

import pandas as pd

from minqing.audit import NAME_MAX, _is_control, audit, clean_name
from minqing.citytime import localize
from minqing.citytime import now as current_time
from minqing.errors import MinqingError
from minqing.store.base import Store

__all__ = [
    "MAX_PASSWORD",
    "MIN_PASSWORD",
    "ROLES",
    "Account",
    "AccountError",
    "AccountScopeError",
    "PasswordPolicyError",
    "UnknownUserError",
    "UserExistsError",
    "account_grid_codes",
    "add_user",
    "disable_user",
    "enable_user",
    "get_account",
    "list_users",
    "set_password",
    "set_scope",
]

ROLES = ("admin", "planner", "grid_leader", "meeting")
"""The roles an account can have (see issue 11: admin, planner, grid leader, meeting viewer)."""
MIN_PASSWORD = 10
"""The shortest password accepted, in characters."""
MAX_PASSWORD = 1024
"""The longest password accepted, in characters (a bound on the work of one hash)."""

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


# -- times and password hashes -------------------------------------------------------------------------
def _now(now=None) -> pd.Timestamp:
    """``now`` (naive means local time) or the current time, as a tz-aware local timestamp."""
    return current_time() if now is None else localize(now)


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


def _needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with other argon2 parameters than argon2-cffi's current defaults."""
    return _hasher().check_needs_rehash(password_hash)


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
