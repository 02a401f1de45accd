"""Helpers shared by the PostgreSQL store's modules: SQL pieces, COPY, the ticket columns' SQL types."""

from __future__ import annotations

from minqing.model import TICKET_COLUMNS, TICKET_TIME_COLUMNS
from minqing.store.convert import NULLABLE_INT_COLUMNS, rows, ticket_select

TICKET_SQL_TYPES = {c: "bigint" if c in TICKET_TIME_COLUMNS or c in NULLABLE_INT_COLUMNS
                    else "double precision" if c in ("lon", "lat") else "text" for c in TICKET_COLUMNS}
"""The SQL type of each ticket column in a staging table: times as epoch seconds (bigint), as the rows carry them."""


def epoch(column: str) -> str:
    """SQL reading a timestamptz ``column`` as epoch seconds (bigint), as :func:`minqing.store.convert.epoch_to_times` expects."""
    return f"extract(epoch FROM {column})::bigint"


def ticket_columns_sql(columns, prefix: str = "") -> list[str]:
    """Return the select expressions of ticket ``columns`` for :func:`minqing.store.convert.ticket_frame`.

    Times become epoch seconds, missing nullable integers the stand-in of :func:`ticket_select`.
    """
    return [f"{epoch(prefix + c)} AS {c}" if c in TICKET_TIME_COLUMNS else expr
            for c, expr in zip(columns, ticket_select(columns, prefix))]


def ticket_values_sql(columns, prefix: str = "") -> list[str]:
    """Return the select expressions turning staged ticket ``columns`` (epoch times) into the tickets' types."""
    return [f"to_timestamp({prefix}{c})" if c in TICKET_TIME_COLUMNS else f"{prefix}{c}" for c in columns]


def create_ticket_stage(con, table: str, keyed: bool = False) -> None:
    """Create the temporary table ``table`` (dropped at commit) holding ticket rows as they are staged."""
    cols = ", ".join(f"{c} {TICKET_SQL_TYPES[c]}" for c in TICKET_COLUMNS)
    key = "_key bigint, _hash bigint, " if keyed else ""
    con.execute(f"CREATE TEMP TABLE {table} ({key}{cols}) ON COMMIT DROP")


COPY_TYPES = {"bigint": "int8", "double precision": "float8", "text": "text"}
"""The binary COPY type of each SQL type of a staging table."""


def copy_binary(con, table: str, columns, types, rows) -> int:
    """COPY ``rows`` into ``table`` in the binary format, each column typed by ``types`` (SQL types); return how many.

    Faster than :func:`copy_rows`: no value is turned into text and parsed back. A value
    must be of its column's Python type (int, float, str or None).
    """
    n = 0
    with con.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types([COPY_TYPES[t] for t in types])
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def copy_arrow_csv(con, table: str, columns, batches) -> int:
    """COPY Arrow record ``batches`` (holding ``columns``) into ``table`` as CSV written by Arrow; return how many rows.

    Every value but NULL is quoted, so NULL (unquoted, empty) and an empty text ("")
    stay apart; floats are written in their shortest exact form. Arrow formats and the
    server parses, with no Python object per value (the binary COPY of :func:`copy_binary`
    builds one per value).
    """
    import io

    import pyarrow.csv as pacsv

    options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
    if con.info.encoding != "utf-8":  # Arrow writes UTF-8: say so for this transaction
        con.execute("SET LOCAL client_encoding TO 'UTF8'")
    n = 0
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT csv)"
    with con.cursor() as cur, cur.copy(statement) as copy:
        for batch in batches:
            buffer = io.BytesIO()
            pacsv.write_csv(batch.select(list(columns)), buffer, options)
            copy.write(buffer.getbuffer())
            n += batch.num_rows
    return n


def copy_rows(con, table: str, columns, rows) -> int:
    """COPY ``rows`` (tuples in ``columns`` order, None for NULL) into ``table``; return how many."""
    n = 0
    with con.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
            n += 1
    return n


def insert_place_links(con, place_links) -> None:
    """Add ``place_links`` (source_id, place_id) to ``ticket_places`` through a temporary table (repeats ignored)."""
    con.execute("CREATE TEMP TABLE _new_places (source_id text, place_id text) ON COMMIT DROP")
    copy_rows(con, "_new_places", ("source_id", "place_id"), rows(place_links, ["source_id", "place_id"]))
    con.execute("INSERT INTO ticket_places (source_id, place_id) SELECT source_id, place_id FROM _new_places "
                "ON CONFLICT DO NOTHING")
    con.execute("DROP TABLE _new_places")
