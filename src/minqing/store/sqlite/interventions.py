"""The interventions half of the SQLite store: the register, its history and the tickets evaluations read.

Mixed into :class:`minqing.store.sqlite.store.SQLiteStore`; the tables are created by
``sql/001_init.sql`` and ``sql/003_interventions.sql`` and used through
:mod:`minqing.interventions`.
"""

from __future__ import annotations

from minqing.model import INTERVENTION_COLUMNS
from minqing.store.contract import EFFECT_TICKET_COLUMNS
from minqing.store.convert import (
    epoch_of,
    rows,
    ticket_frame,
    ticket_select,
)
from minqing.store.sqlfilter import SQLITE


class InterventionsMixin:
    """Intervention methods of the SQLite store."""

    def write_interventions(self, interventions, targets):
        cols = list(INTERVENTION_COLUMNS)
        with self.transaction() as con:
            con.executemany(
                f"INSERT OR REPLACE INTO interventions ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                rows(interventions, cols),
            )
            ids = [(int(i),) for i in interventions["intervention_id"]]
            con.executemany("DELETE FROM intervention_targets WHERE intervention_id = ?", ids)
            con.executemany(
                "INSERT OR IGNORE INTO intervention_targets (intervention_id, target_type, target_id) VALUES (?, ?, ?)",
                rows(targets, ["intervention_id", "target_type", "target_id"]),
            )
            self._bump(con)
        return len(interventions)

    def read_interventions(self):
        iv = self._query(f"SELECT {', '.join(INTERVENTION_COLUMNS)} FROM interventions ORDER BY intervention_id")
        tg = self._query(
            "SELECT intervention_id, target_type, target_id FROM intervention_targets "
            "ORDER BY intervention_id, target_type, target_id"
        )
        return iv, tg

    def save_intervention(self, intervention, targets, changed_by, change):
        cols = [c for c in INTERVENTION_COLUMNS if c != "intervention_id"]
        values = [intervention.get(c) for c in cols]
        iid = intervention.get("intervention_id")
        with self.transaction() as con:
            if iid is None:
                cur = con.execute(
                    f"INSERT INTO interventions ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", values
                )
                iid = int(cur.lastrowid)
            else:
                iid = int(iid)
                con.execute(f"UPDATE interventions SET {', '.join(c + ' = ?' for c in cols)} WHERE intervention_id = ?",
                            [*values, iid])
            con.execute("DELETE FROM intervention_targets WHERE intervention_id = ?", (iid,))
            con.executemany(
                "INSERT OR IGNORE INTO intervention_targets (intervention_id, target_type, target_id) VALUES (?, ?, ?)",
                [(iid, str(a), str(b)) for a, b in zip(targets["target_type"], targets["target_id"])],
            )
            con.execute(
                "INSERT INTO intervention_history (intervention_id, changed_at, changed_by, change) "
                "VALUES (?, CAST(strftime('%s', 'now') AS INTEGER), ?, ?)",
                (iid, changed_by, change),
            )
            self._bump(con)
        return iid

    def read_intervention_history(self, intervention_id=None):
        return self._read_log("SELECT intervention_id, changed_at, changed_by, change FROM intervention_history",
                              "intervention_id", None if intervention_id is None else int(intervention_id))

    def read_effect_tickets(self, categories, start):
        params: list = []
        cond = (SQLITE.in_("category", categories, params) + " AND " if categories else "") + "received_at >= ?"
        params.append(epoch_of(start, self.timezone))
        tk = self._query(f"SELECT {', '.join(ticket_select(EFFECT_TICKET_COLUMNS))} FROM tickets WHERE {cond}", params)
        links = self._query(
            "SELECT tp.source_id, tp.place_id FROM tickets t JOIN ticket_places tp ON tp.source_id = t.source_id "
            f"WHERE {cond.replace('category', 't.category').replace('received_at', 't.received_at')}", params)
        return ticket_frame(tk, self.timezone), links
