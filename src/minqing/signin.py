"""Sign-in with a name and password: one error for every refusal, a lockout after repeated failures.

:func:`authenticate` gives one generic error for an unknown name and a wrong
password alike (an unknown name still costs one hash verification, so the
timing tells nothing), locks an account for :data:`LOCK_MINUTES` after
:data:`LOCK_AFTER` failures in a row, renews a hash made with older argon2
parameters, and records every attempt in the audit log. The accounts and their
hashes are in :mod:`minqing.accounts`; the sign-in page is
:mod:`minqing.ui.signin`.
"""

from __future__ import annotations

import math
from typing import NoReturn

import pandas as pd

from minqing.accounts import (
    Account,
    _hash,
    _needs_rehash,
    _now,
    _opt_time,
    _row,
    _verify,
    _verify_dummy,
    get_account,
)
from minqing.audit import audit, clean_name
from minqing.errors import MinqingError
from minqing.store.base import Store

__all__ = ["LOCK_AFTER", "LOCK_MINUTES", "SESSION_HOURS", "DisabledError", "LockedError", "SignInError",
           "authenticate"]

LOCK_AFTER = 5
"""Failed sign-ins in a row that lock an account."""
LOCK_MINUTES = 15
"""How long a locked account stays locked."""
SESSION_HOURS = 8
"""A signed-in session expires after this many idle hours (applied by the UI)."""


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
    if locked_until is not None and locked_until > now:
        _verify(row["password_hash"], password)  # same work as any attempt; the answer does not matter
        minutes = max(1, math.ceil((locked_until - now).total_seconds() / 60))
        audit(store, who, "sign_in_locked", target=name, detail={"minutes_left": minutes}, now=now)
        raise _locked(minutes)
    if not _verify(row["password_hash"], password):
        # a lock that has run out is a fresh start
        _wrong_password(store, name, who, 0 if locked_until is not None else int(row["failed_count"]), now)
    if bool(row["disabled"]):
        audit(store, who, "sign_in_failed", target=name, detail={"reason": "disabled"}, now=now)
        raise DisabledError(f"the account {who!r} is disabled; ask an administrator to enable it",
                            key="accounts.error_disabled", name=who)
    fields = {"failed_count": 0, "locked_until": None, "last_sign_in_at": now}
    if _needs_rehash(row["password_hash"]):
        fields["password_hash"] = _hash(password)
    store.update_user(name, **fields)
    audit(store, who, "sign_in", target=name, detail={"rehashed": True} if "password_hash" in fields else None,
          now=now)
    return get_account(store, name)


def _wrong_password(store: Store, name: str, who: str, failed: int, now: pd.Timestamp) -> NoReturn:
    """Count one more failure (:data:`LOCK_AFTER` of them lock the account), record it and refuse."""
    failed += 1
    lock = failed >= LOCK_AFTER
    store.update_user(name, failed_count=failed,
                      locked_until=now + pd.Timedelta(minutes=LOCK_MINUTES) if lock else None)
    detail = {"reason": "wrong_password", "failed_count": failed}
    if lock:
        detail["locked_minutes"] = LOCK_MINUTES
    audit(store, who, "sign_in_failed", target=name, detail=detail, now=now)
    raise _locked(LOCK_MINUTES) if lock else _sign_in_error()


def _locked(minutes: int) -> LockedError:
    return LockedError(
        f"too many failed sign-ins: the account is locked; try again in {minutes} minute(s) "
        "or ask an administrator to enable it",
        key="accounts.error_locked", minutes=minutes,
    )
