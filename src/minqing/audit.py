"""The audit log: who did what, when, to what, how many rows, masked or not.

:func:`audit` appends one row to the store's audit log (sign-ins, imports,
edits, account changes, exports); :func:`read_audit` reads it back, newest
first. A row never holds callers' personal data (every string goes through
:func:`minqing.privacy.mask_text`) and never a password, and names are shown
and logged as :func:`clean_name` leaves them: without control characters and
at most :data:`NAME_MAX` characters long.
"""

from __future__ import annotations

import json
import math
import unicodedata

import pandas as pd

from minqing.citytime import localize
from minqing.citytime import now as current_time
from minqing.store.base import Store

__all__ = ["DETAIL_MAX", "NAME_MAX", "audit", "clean_name", "read_audit"]

NAME_MAX = 64
"""The longest account name, in characters (actors in the log are cut to it too)."""
DETAIL_MAX = 200
"""Audit strings (target, detail values) are cut to this many characters."""


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
        "at": current_time() if now is None else localize(now),
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
