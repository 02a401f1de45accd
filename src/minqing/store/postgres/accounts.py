"""The accounts half of the PostgreSQL store: the ``users`` table and the audit log.

Mixed into :class:`minqing.store.postgres.store.PostgresStore`; the tables are created
by ``sql/004_accounts.sql`` and used through :mod:`minqing.accounts`. Not ticket data:
no write here changes the store's ``data_version``. The rules of the values are those
of :mod:`minqing.store.convert` (``user_value``); flags are boolean here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from minqing.errors import StoreError
from minqing.store.checks import check_columns
from minqing.store.convert import (
    AUDIT_COLUMNS,
    USER_COLUMNS,
    USER_TIME_COLUMNS,
    epoch_of,
    epoch_to_times,
    user_value,
)
from minqing.store.postgres.util import epoch
from minqing.store.sqlfilter import POSTGRES, audit_where


def _value(column: str, value):
    """One value of a ``users`` or ``audit_log`` row as PostgreSQL stores it (flags boolean)."""
    value = user_value(column, value)
    if isinstance(value, np.generic):  # numpy scalars: psycopg adapts Python values
        value = value.item()
    if column in ("disabled", "masked") and value is not None and not pd.isna(value):
        return bool(value)
    return value


def _placeholder(column: str, times) -> str:
    return "to_timestamp(%s)" if column in times else "%s"


class AccountsMixin:
    """Account and audit methods of the PostgreSQL store."""

    def read_users(self, name: str | None = None):
        where, params = ("WHERE name = %s", [name]) if name is not None else ("", [])
        cols = [f"{epoch(c)} AS {c}" if c in USER_TIME_COLUMNS else c for c in USER_COLUMNS]
        df = self._query(f'SELECT {", ".join(cols)} FROM users {where} ORDER BY name COLLATE "C"', params)
        for c in USER_TIME_COLUMNS:
            df[c] = epoch_to_times(df[c], index=df.index, tz=self.timezone)
        df["disabled"] = df["disabled"].astype(bool)
        df["failed_count"] = df["failed_count"].astype("int64")
        return df

    def write_user(self, row):
        check_columns(row, USER_COLUMNS, "account")
        cols = list(row)
        marks = ", ".join(_placeholder(c, USER_TIME_COLUMNS) for c in cols)
        with self._tx() as con:  # INSERT OR REPLACE: the columns not given take their defaults
            con.execute("DELETE FROM users WHERE name = %s", (row.get("name"),))
            con.execute(f"INSERT INTO users ({', '.join(cols)}) VALUES ({marks})", [_value(c, row[c]) for c in cols])

    def update_user(self, name, **fields):
        check_columns(fields, USER_COLUMNS[1:], "account")
        if not fields:
            return
        cols = list(fields)
        sets = ", ".join(f"{c} = {_placeholder(c, USER_TIME_COLUMNS)}" for c in cols)
        with self._tx() as con:
            cur = con.execute(f"UPDATE users SET {sets} WHERE name = %s",
                              [*(_value(c, fields[c]) for c in cols), str(name)])
            if cur.rowcount == 0:
                raise StoreError(f"no account named {name!r}; `minqing user list` shows the accounts",
                                 key="accounts.error_unknown_user", name=str(name))

    def write_audit(self, row):
        cols = [c for c in AUDIT_COLUMNS if c != "id"]
        check_columns(row, cols, "audit")
        values = [epoch_of(row.get("at")) if c == "at" else _value(c, row.get(c)) for c in cols]
        if values[0] is None:
            values[0] = epoch_of(pd.Timestamp.now(tz="UTC"))
        marks = ", ".join(_placeholder(c, ("at",)) for c in cols)
        with self._tx() as con:
            con.execute(f"INSERT INTO audit_log ({', '.join(cols)}) VALUES ({marks})", values)

    def read_audit(self, limit=1000, actor=None, action=None, since=None):
        clause, params = audit_where(POSTGRES, actor, action, since)
        cols = [epoch("at") + " AS at" if c == "at" else "masked::int AS masked" if c == "masked" else c
                for c in AUDIT_COLUMNS]
        sql = f"SELECT {', '.join(cols)} FROM audit_log{clause} ORDER BY audit_log.at DESC, id DESC"
        if limit is not None:
            sql += " LIMIT %s"
            params.append(int(limit))
        df = self._query(sql, params)
        df["at"] = epoch_to_times(df["at"], index=df.index, tz=self.timezone)
        for c in ("rows", "masked"):
            df[c] = pd.to_numeric(df[c]).astype("Int64")
        return df
