"""The accounts half of the SQLite store: the ``users`` table and the audit log.

Mixed into :class:`minqing.store.sqlite.store.SQLiteStore`; the tables are created
by ``sql/004_accounts.sql`` and used through :mod:`minqing.accounts`. Not ticket
data: no write here changes the store's ``data_version``.
"""

from __future__ import annotations

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
from minqing.store.sqlfilter import SQLITE, audit_where


class AccountsMixin:
    """Account and audit methods of the SQLite store."""

    def read_users(self, name: str | None = None):
        where, params = ("WHERE name = ?", [name]) if name is not None else ("", [])
        df = self._query(f"SELECT {', '.join(USER_COLUMNS)} FROM users {where} ORDER BY name", params)
        for c in USER_TIME_COLUMNS:
            df[c] = epoch_to_times(df[c], index=df.index, tz=self.timezone)
        df["disabled"] = df["disabled"].astype(bool)
        df["failed_count"] = df["failed_count"].astype("int64")
        return df

    def write_user(self, row):
        check_columns(row, USER_COLUMNS, "account")
        cols = list(row)
        with self.transaction() as con:
            con.execute(f"INSERT OR REPLACE INTO users ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                        [user_value(c, row[c]) for c in cols])

    def update_user(self, name, **fields):
        check_columns(fields, USER_COLUMNS[1:], "account")
        if not fields:
            return
        cols = list(fields)
        with self.transaction() as con:
            cur = con.execute(f"UPDATE users SET {', '.join(c + ' = ?' for c in cols)} WHERE name = ?",
                              [*(user_value(c, fields[c]) for c in cols), str(name)])
            if cur.rowcount == 0:
                raise StoreError(f"no account named {name!r}; `minqing user list` shows the accounts",
                                 key="accounts.error_unknown_user", name=str(name))

    def write_audit(self, row):
        cols = [c for c in AUDIT_COLUMNS if c != "id"]
        check_columns(row, cols, "audit")
        values = [epoch_of(row.get("at")) if c == "at" else row.get(c) for c in cols]
        if values[0] is None:
            values[0] = epoch_of(pd.Timestamp.now(tz="UTC"))
        with self.transaction() as con:
            con.execute(f"INSERT INTO audit_log ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", values)

    def read_audit(self, limit=1000, actor=None, action=None, since=None):
        clause, params = audit_where(SQLITE, actor, action, since)
        sql = f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit_log{clause} ORDER BY at DESC, id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        df = self._query(sql, params)
        df["at"] = epoch_to_times(df["at"], index=df.index, tz=self.timezone)
        for c in ("rows", "masked"):
            df[c] = pd.to_numeric(df[c]).astype("Int64")
        return df

