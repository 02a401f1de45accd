"""The importer's part of the SQLite store: one-transaction imports, quarantine, change history.

Mixed into :class:`minqing.store.sqlite.SQLiteStore`; the tables are created
by ``sql/sqlite/002_ingest.sql``.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from minqing.model import TICKET_COLUMNS, TICKET_TIME_COLUMNS
from minqing.store.convert import epoch_to_times, rows

QUARANTINE_COLUMNS = ("import_id", "file_name", "row_number", "source_id", "reason", "detail", "original",
                      "row_hash", "quarantined_at")
CHANGE_COLUMNS = ("source_id", "import_id", "changed_at", "field", "old_value", "new_value")


class IngestMixin:
    """Import-related methods of the SQLite store."""

    def read_source_hashes(self) -> pd.Series:
        """Return the stored source-row hash of every ticket (index ``source_id``, int64)."""
        df = self._query("SELECT source_id, row_hash FROM ticket_sources")
        return pd.Series(df["row_hash"].to_numpy(dtype="int64"), index=df["source_id"].astype(object), name="row_hash")

    def read_tickets_by_ids(self, source_ids) -> pd.DataFrame:
        """Return the stored tickets with these source ids (all ticket columns, local times)."""
        ids = list(dict.fromkeys(str(i) for i in source_ids))
        cols = list(TICKET_COLUMNS)
        with self._lock:
            con = self._con
            con.execute("CREATE TEMP TABLE IF NOT EXISTS _lookup (source_id TEXT PRIMARY KEY) WITHOUT ROWID")
            con.execute("DELETE FROM _lookup")
            con.executemany("INSERT OR IGNORE INTO _lookup VALUES (?)", ((i,) for i in ids))
            cur = con.execute(f"SELECT {', '.join('t.' + c for c in cols)} FROM tickets t "
                              "JOIN _lookup l ON l.source_id = t.source_id")
            df = pd.DataFrame(cur.fetchall(), columns=cols)
            con.execute("DELETE FROM _lookup")
        for c in TICKET_TIME_COLUMNS:
            df[c] = epoch_to_times(df[c], index=df.index)
        return df

    def write_import(self, tickets: pd.DataFrame, place_links: pd.DataFrame, sources: pd.DataFrame,
                     quarantine: pd.DataFrame, changes: pd.DataFrame, report: dict, *, resolve_ids=()) -> None:
        """Write one import in one transaction: tickets, place links, source hashes, quarantine, changes, report.

        Any exception rolls everything back, so a failed import leaves the store as it was.
        """
        with self.transaction() as con:
            self._write_tickets_in(con, tickets, place_links)
            con.executemany("INSERT OR REPLACE INTO ticket_sources (source_id, row_hash, import_id) VALUES (?, ?, ?)",
                            rows(sources, ["source_id", "row_hash", "import_id"]))
            con.executemany(
                f"INSERT OR IGNORE INTO quarantine ({', '.join(QUARANTINE_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(QUARANTINE_COLUMNS))})", rows(quarantine, list(QUARANTINE_COLUMNS)))
            if resolve_ids:
                con.executemany("UPDATE quarantine SET resolved_by = ? WHERE source_id = ? AND resolved_by IS NULL",
                                [(report["import_id"], str(i)) for i in resolve_ids])
            con.executemany(f"INSERT INTO ticket_changes ({', '.join(CHANGE_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?)",
                            rows(changes, list(CHANGE_COLUMNS)))
            con.execute(
                "INSERT INTO import_reports (import_id, file_name, sha256, format, imported_by, started_at, finished_at,"
                " rows_read, inserted, updated, unchanged, quarantined, duplicates, report)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (report["import_id"], report["file"], report["sha256"], report["format"], report.get("user"),
                 int(report["started_epoch"]), int(report["finished_epoch"]), report["rows_read"], report["inserted"],
                 report["updated"], report["unchanged"], report["quarantined"], report["duplicates"],
                 json.dumps(report, ensure_ascii=False, default=str)))
            if len(tickets) or len(place_links):
                self._bump(con)

    def read_quarantine(self, import_id: str | None = None, include_resolved: bool = False) -> pd.DataFrame:
        """Return quarantined rows (newest import first), unresolved ones unless ``include_resolved``."""
        sql = ("SELECT quarantine_id, import_id, file_name, row_number, source_id, reason, detail, original, "
               "quarantined_at, resolved_by FROM quarantine WHERE 1=1")
        params: list = []
        if import_id is not None:
            sql += " AND import_id = ?"
            params.append(import_id)
        if not include_resolved:
            sql += " AND resolved_by IS NULL"
        df = self._query(sql + " ORDER BY quarantined_at DESC, quarantine_id", params)
        df["quarantined_at"] = epoch_to_times(df["quarantined_at"], index=df.index)
        return df

    def read_import_reports(self, limit: int = 50) -> list[dict]:
        """Return the stored import reports, newest first."""
        df = self._query("SELECT report FROM import_reports ORDER BY started_at DESC, rowid DESC LIMIT ?", (int(limit),))
        return [json.loads(r) for r in df["report"]]

    def read_ticket_changes(self, source_id: str | None = None) -> pd.DataFrame:
        """Return recorded changes (all, or of one ticket) in the order they were made."""
        sql = f"SELECT {', '.join(CHANGE_COLUMNS)} FROM ticket_changes"
        params: list = []
        if source_id is not None:
            sql += " WHERE source_id = ?"
            params.append(str(source_id))
        df = self._query(sql + " ORDER BY changed_at, rowid", params)
        df["changed_at"] = epoch_to_times(df["changed_at"], index=df.index)
        return df

    def write_relinked(self, links: pd.DataFrame, place_links: pd.DataFrame) -> int:
        """Replace the link columns and place links of stored tickets (one transaction); return the count."""
        link_cols = ["grid_uid", "grid_code", "community_code", "subdistrict_code", "district_code", "h3_cell"]
        with self.transaction() as con:
            con.executemany(
                f"UPDATE tickets SET {', '.join(c + ' = ?' for c in link_cols)} WHERE source_id = ?",
                rows(links, link_cols + ["source_id"]))
            con.execute("DELETE FROM ticket_places")
            con.executemany("INSERT OR IGNORE INTO ticket_places (source_id, place_id) VALUES (?, ?)",
                            rows(place_links, ["source_id", "place_id"]))
            self._bump(con)
        return len(links)


__all__ = ["IngestMixin", "QUARANTINE_COLUMNS", "CHANGE_COLUMNS", "np"]
