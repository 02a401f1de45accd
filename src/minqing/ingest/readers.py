"""Readers: CSV (any encoding and delimiter), XLSX, GeoJSON and Open311 GeoReport v2 JSON.

:func:`open_source` tells what a file is, by its content, not its extension;
:func:`read_chunks` reads it with the reader of its format (:mod:`minqing.ingest.csv_blocks`,
:mod:`minqing.ingest.xlsx`, :mod:`minqing.ingest.json_records`), every chunk as
:mod:`minqing.ingest.source` describes.
"""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import Future
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd

from minqing.ingest.csv_blocks import csv_chunks
from minqing.ingest.encodings import SAMPLE, detect_delimiter, detect_encoding
from minqing.ingest.errors import ReadError
from minqing.ingest.header_row import TITLE_ROWS, csv_header_row
from minqing.ingest.json_records import geojson_chunks, json_kind, json_scalar, open311_chunks
from minqing.ingest.source import Source, visible_nul
from minqing.ingest.xlsx import xlsx_chunks

DEFAULT_CHUNKSIZE = 200_000


def open_source(path: Path | str, sheet: str | None = None, hash_later: bool = False) -> Source:
    """Inspect a file: its format (by content), encoding, delimiter and hash.

    With ``hash_later`` the hash is computed on a thread while the caller goes on; read it with
    :meth:`Source.file_hash` (the import does before it forks its workers).

    Raises
    ------
    ReadError
        If the file is missing, empty of bytes, or not CSV/XLSX/GeoJSON/Open311.
    """
    path = Path(path)
    if not path.is_file():
        raise ReadError(f"file {path} does not exist; check the path", key="ingest.error_missing", path=str(path))
    return _inspect(path, sheet, hash_later)


def _inspect(path: Path, sheet, hash_later: bool = False) -> Source:
    with path.open("rb") as fh:
        head = fh.read(SAMPLE)
    src = Source(path=path, format="csv", size=path.stat().st_size, sheet=sheet)
    if hash_later:
        src.hashing = _hash_on_thread(path)
    else:
        src.sha256 = _sha256(path)
    ext = path.suffix.lower().lstrip(".")
    if head.startswith(b"PK\x03\x04"):
        src.format = "xlsx"
    elif head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ReadError(f"{path.name} is an old binary Excel (.xls) file; open it in Excel or WPS and save as .xlsx",
                        key="ingest.error_xls", path=str(path))
    else:
        first = _first_char(head)
        if first in ("{", "["):
            src.format = json_kind(path)
        elif ext in ("json", "geojson") and first and (kind := json_scalar(path, src.size)):
            raise ReadError(f"{path.name} holds a single JSON value ({kind}), not a list of requests or a GeoJSON "
                            "FeatureCollection; export it again", key="ingest.error_json_scalar", path=str(path),
                            kind=kind)
        elif _looks_binary(head[:4096]):
            raise ReadError(
                f"{path.name} is neither CSV, XLSX, GeoJSON nor Open311 JSON (it holds binary data); "
                "export the work orders as .xlsx or .csv",
                key="ingest.error_format", path=str(path))
        else:
            src.encoding = detect_encoding(head)
            src.delimiter = detect_delimiter(head, src.encoding)
            src.header_row = csv_header_row(head, src.encoding, src.delimiter)
            if src.header_row:
                src.warnings[TITLE_ROWS] = src.header_row
    expected = {"csv": ("csv", "txt", "tsv"), "xlsx": ("xlsx", "xlsm"), "geojson": ("geojson", "json"),
                "open311": ("json",)}[src.format]
    if ext and ext not in expected:
        src.notes.append(f"extension_mismatch:{ext}->{src.format}")
    return src


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)  # hashlib lets go of the GIL for blocks this large
    return digest.hexdigest()


def _hash_on_thread(path: Path) -> Future:
    done: Future = Future()

    def run():
        try:
            done.set_result(_sha256(path))
        except BaseException as exc:  # noqa: BLE001 - raised where the hash is read
            done.set_exception(exc)

    threading.Thread(target=run, name="minqing-file-hash", daemon=True).start()
    return done


def _looks_binary(head: bytes) -> bool:
    """True when the sample is binary: many NUL bytes (a stray NUL inside a text cell is not enough)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    return head.count(b"\x00") > max(len(head) // 32, 2)


def _first_char(head: bytes) -> str:
    """The first character that is not white space, in UTF-8 (with or without BOM) or BOM-marked UTF-16."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head[:256].decode("utf-16", errors="ignore").lstrip("\ufeff \t\r\n")[:1]
    return head.lstrip(b"\xef\xbb\xbf").lstrip()[:1].decode("ascii", errors="ignore")


def read_chunks(src: Source, chunksize: int = DEFAULT_CHUNKSIZE,
                progress: Callable[[int, int], None] | None = None) -> Iterator[pd.DataFrame]:
    """Yield the file's rows as chunks of strings with a ``_row`` column.

    Parameters
    ----------
    src : Source
        From :func:`open_source`.
    chunksize : int
        Rows per chunk.
    progress : callable, optional
        Called with (bytes or rows done, total) after each chunk.
    """
    if chunksize < 1:
        raise ValueError(f"chunksize must be at least 1, got {chunksize}")
    reader = {"csv": csv_chunks, "xlsx": xlsx_chunks, "geojson": geojson_chunks, "open311": open311_chunks}
    for chunk in reader[src.format](src, chunksize, progress or (lambda done, total: None)):
        yield visible_nul(chunk)
