"""The import staging session every store backend implements (:meth:`minqing.store.base.Store.begin_import`).

An import never writes to the store while it reads the file: each chunk's rows are
*staged* (an embedded store writes scratch files, a server store may COPY into
temporary tables), and :meth:`ImportStage.commit` moves everything into the store
in one transaction. A failed or dry import discards the stage and leaves the store
as it was::

    with store.begin_import() as stage:  # in the importing process, before workers are forked
        ...                              # workers: stage.add(tickets, place_links, sources, changes)
        stage.add_quarantine(frame)      # the importing process only, from here on
        stage.commit(report, drop_keys, dup_rows)

Process model
-------------
Chunks are processed by worker processes *forked* from the importing process
after it opened the stage; they inherit the stage object. A worker may call
:meth:`~ImportStage.add` only (once per chunk, any number of chunks); an
implementation keeps what it needs per process (a scratch file or connection per
process id, never a connection inherited across the fork). The importing process
may call :meth:`~ImportStage.add` too (small files are processed in it), and it
alone calls every other method, after the workers have returned the chunks it
commits.

Rows are identified by a *key* (int64), ``chunk_number << 32 | row_in_chunk``,
unique within one import; ``drop_keys`` at commit names rows not to store.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Self

import pandas as pd

KEY_BITS = 32
"""A row's key is ``chunk_number << KEY_BITS | row_in_chunk``."""


class ImportStage(ABC):
    """One import's staged rows until :meth:`commit` (or :meth:`discard`); a context manager.

    Leaving the ``with`` block discards whatever was not committed, also when an
    exception leaves it; the store is then unchanged.
    """

    @abstractmethod
    def add(self, tickets: pd.DataFrame, place_links: pd.DataFrame, sources: pd.DataFrame,
            changes: pd.DataFrame) -> None:
        """Stage one chunk's rows (a worker process or the importing process).

        Parameters
        ----------
        tickets : DataFrame
            Tickets to insert or update: ``_key`` (int64), ``_hash`` (int64, the hash of
            the source row, stored with the ticket) and every column of
            :data:`minqing.model.TICKET_COLUMNS` as the normaliser and the linker leave
            them: times tz-aware ``datetime64``, ``lon``/``lat`` float64 (NaN missing),
            ``grid_uid`` and ``h3_cell`` nullable Int64, the other columns str (object or
            string dtype; None/NaN/NA missing). Other columns are ignored.
        place_links : DataFrame
            ``_key`` (int64), ``source_id`` (str), ``place_id`` (str): the place links of
            the tickets staged here (they replace the stored links of those tickets).
        sources : DataFrame
            ``_key`` (int64), ``source_id`` (str), ``row_hash`` (int64): the new source-row
            hash of tickets whose content did not change (stored tickets, not restaged).
        changes : DataFrame
            ``_key`` (int64), ``source_id``, ``field``, ``old_value``, ``new_value`` (str or
            None): what changed in updated tickets (the ticket change history).

        Any of them may have no rows.

        Raises
        ------
        minqing.errors.IngestError
            When the staging area is full or cannot be written (the import stops).
        """

    @abstractmethod
    def add_quarantine(self, frame: pd.DataFrame) -> None:
        """Stage quarantined rows (the importing process only).

        Parameters
        ----------
        frame : DataFrame
            ``row_number`` (int64, the file's data row, 1-based), ``source_id`` (str),
            ``reason`` (a :data:`minqing.ingest.errors.REASONS` code), ``detail`` (str or
            None), ``original`` (str, the source row as JSON), ``row_hash`` (int64; equal
            hashes are exact repeats).
        """

    @abstractmethod
    def repeated_quarantine_rows(self) -> set[int]:
        """Return the row numbers of exact repeats (same ``row_hash``) of a row quarantined earlier in the file."""

    @abstractmethod
    def quarantine_reasons(self, dup_rows) -> dict:
        """Return ``{reason: (rows, examples)}`` of the quarantined rows, the rows in ``dup_rows`` left out.

        ``examples`` are up to three dicts ``{"row": int, "source_id": str, "value": str or None}``
        (the ``detail``), lowest row numbers first. The importing process only.
        """

    @abstractmethod
    def commit(self, report: dict, drop_keys=(), dup_rows=()) -> None:
        """Write everything staged into the store in one transaction.

        Parameters
        ----------
        report : dict
            The import report (:meth:`minqing.ingest.tally.ImportReport.to_dict`), stored as
            it is; ``import_id``, ``file``, ``finished_epoch``, ``inserted`` and ``updated``
            are used in the write.
        drop_keys : array of int
            Keys of staged rows not to store (repeated ids).
        dup_rows : iterable of int
            Row numbers of exact repeats, left out of the stored quarantine.

        Any exception rolls everything back, so a failed import leaves the store as
        it was. Call it once; :meth:`discard` (leaving the ``with`` block) then releases
        the stage. The importing process only.
        """

    @abstractmethod
    def discard(self) -> None:
        """Drop whatever is staged (nothing is left after :meth:`commit`) and release the stage.

        Before a commit the store is unchanged. Safe to call twice; the importing process only.
        """

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.discard()
