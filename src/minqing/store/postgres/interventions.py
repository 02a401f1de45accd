"""The interventions half of the PostgreSQL store: the register, its history and the tickets evaluations read.

Mixed into :class:`minqing.store.postgres.store.PostgresStore`; the tables are created by
``sql/001_init.sql`` and ``sql/003_interventions.sql`` and used through
:mod:`minqing.interventions`. Dates are ``date`` columns, read back as ``'YYYY-MM-DD'`` text.
"""

from __future__ import annotations

from minqing.model import INTERVENTION_COLUMNS
from minqing.store.contract import EFFECT_TICKET_COLUMNS
from minqing.store.convert import rows, ticket_frame
from minqing.store.postgres.util import epoch, ticket_columns_sql
from minqing.store.sqlfilter import POSTGRES

_DATES = ("start_date", "end_date", "implementation_end")
NEW_ID_LOCK = 7_331_004_201
"""Advisory lock key held (per transaction) while a new intervention takes the next id."""


class InterventionsMixin:
    """Intervention methods of the PostgreSQL store."""

    def write_interventions(self, interventions, targets):
        cols = list(INTERVENTION_COLUMNS)
        update = ", ".join(f"{c} = excluded.{c}" for c in cols[1:])
        with self._tx() as con, con.cursor() as cur:
            cur.executemany(
                f"INSERT INTO interventions ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))}) "
                f"ON CONFLICT (intervention_id) DO UPDATE SET {update}",
                rows(interventions, cols),
            )
            cur.execute("DELETE FROM intervention_targets WHERE intervention_id = ANY(%s)",
                        ([int(i) for i in interventions["intervention_id"]],))
            cur.executemany(
                "INSERT INTO intervention_targets (intervention_id, target_type, target_id) VALUES (%s, %s, %s) "
                "ON CONFLICT DO NOTHING",
                rows(targets, ["intervention_id", "target_type", "target_id"]),
            )
            self._bump(con)
        return len(interventions)

    def read_interventions(self):
        cols = [f"to_char({c}, 'YYYY-MM-DD') AS {c}" if c in _DATES else c for c in INTERVENTION_COLUMNS]
        iv = self._query(f"SELECT {', '.join(cols)} FROM interventions ORDER BY intervention_id")
        tg = self._query(
            "SELECT intervention_id, target_type, target_id FROM intervention_targets "
            'ORDER BY intervention_id, target_type COLLATE "C", target_id COLLATE "C"'
        )
        return iv, tg

    def save_intervention(self, intervention, targets, changed_by, change):
        cols = [c for c in INTERVENTION_COLUMNS if c != "intervention_id"]
        values = [intervention.get(c) for c in cols]
        iid = intervention.get("intervention_id")
        with self._tx() as con:
            if iid is None:
                # the next id after the highest, as SQLite's rowid (ids may also be written explicitly)
                con.execute("SELECT pg_advisory_xact_lock(%s)", (NEW_ID_LOCK,))
                iid = con.execute("SELECT coalesce(max(intervention_id), 0) + 1 FROM interventions").fetchone()[0]
                con.execute(f"INSERT INTO interventions (intervention_id, {', '.join(cols)}) "
                            f"VALUES ({', '.join(['%s'] * (len(cols) + 1))})", [iid, *values])
            else:
                iid = int(iid)
                con.execute(f"UPDATE interventions SET {', '.join(c + ' = %s' for c in cols)} "
                            "WHERE intervention_id = %s", [*values, iid])
            con.execute("DELETE FROM intervention_targets WHERE intervention_id = %s", (iid,))
            with con.cursor() as cur:
                cur.executemany(
                    "INSERT INTO intervention_targets (intervention_id, target_type, target_id) VALUES (%s, %s, %s) "
                    "ON CONFLICT DO NOTHING",
                    [(iid, str(a), str(b)) for a, b in zip(targets["target_type"], targets["target_id"])],
                )
            con.execute(
                "INSERT INTO intervention_history (intervention_id, changed_at, changed_by, change) "
                "VALUES (%s, date_trunc('second', now()), %s, %s)",
                (iid, changed_by, change),
            )
            self._bump(con)
        return int(iid)

    def read_intervention_history(self, intervention_id=None):
        return self._read_log(
            f"SELECT intervention_id, {epoch('changed_at')} AS changed_at, changed_by, change FROM intervention_history",
            "intervention_id", None if intervention_id is None else int(intervention_id))

    def _effect_condition(self, categories, start, alias: str) -> tuple[str, list]:
        params: list = []
        cond = (POSTGRES.in_(f"{alias}category", categories, params) + " AND " if categories else "")
        params.append(self._epoch_param(start))
        return cond + f"{alias}received_at >= to_timestamp(%s)", params

    def read_effect_tickets(self, categories, start):
        cond, params = self._effect_condition(categories, start, "")
        tk = self._query(f"SELECT {', '.join(ticket_columns_sql(EFFECT_TICKET_COLUMNS))} FROM tickets WHERE {cond}",
                         params)
        cond, params = self._effect_condition(categories, start, "t.")
        links = self._query("SELECT tp.source_id, tp.place_id FROM tickets t "
                            f"JOIN ticket_places tp ON tp.source_id = t.source_id WHERE {cond}", params)
        return ticket_frame(tk, self.timezone), links
