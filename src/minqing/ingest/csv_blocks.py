"""CSV files: cut into byte blocks of whole records, parsed by Arrow where it reads them as pandas would.

The import's workers parse the blocks of :func:`csv_blocks` with :func:`parse_csv_block`;
:func:`csv_chunks` reads the same blocks in this process (the same rows, numbered alike),
or, for an encoding whose bytes cannot be cut safely, streams the file through pandas.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from minqing.ingest.encodings import UTF8, redecode_lines
from minqing.ingest.errors import ReadError
from minqing.ingest.source import visible_nul
from minqing.ingest.transcode import readable, to_utf8

if TYPE_CHECKING:
    from minqing.ingest.source import Source

_SPLITTABLE = ("utf-8", "utf-8-sig", "gb18030", "gbk", "gb2312", "ascii", "latin-1", "iso-8859-1", "cp1252", "big5")


def csv_splittable(src: Source) -> bool:
    """True when the CSV's encoding keeps quote, delimiter and line-break bytes unambiguous, so it can be cut into blocks.

    In UTF-8 and GB18030 the bytes 0x22 (quote), 0x0A and 0x0D (line breaks) and 0x2C, 0x09, 0x3B
    (comma, tab, semicolon) never occur inside a multi-byte character, so the records can be found
    by scanning the bytes (:func:`_record_ends`). Line breaks may be ``\n``, ``\r\n`` or ``\r`` alone.
    (``|``, 0x7C, can be the second byte of a GBK or Big5 character: a quote right after such a
    character in a ``|``-separated file would be taken to start a field.)
    """
    return src.format == "csv" and (src.encoding or "").lower().replace("_", "-") in _SPLITTABLE


def csv_chunks(src: Source, chunksize, progress):
    """Yield the rows of a CSV file as chunks of strings (see :func:`minqing.ingest.readers.read_chunks`)."""
    if csv_splittable(src):  # the same blocks and parser as the import's workers: the same rows, numbered alike
        yield from _block_chunks(src, chunksize, progress)
        return
    row = 0
    try:
        with open(src.path, "rb") as raw:
            it = pd.read_csv(raw, sep=src.delimiter, dtype=str, na_filter=False, encoding=src.encoding,
                             encoding_errors="replace", chunksize=chunksize, engine="c", skipinitialspace=False,
                             on_bad_lines="error", skiprows=src.header_row)
            for chunk in it:
                chunk.columns = [str(c).strip().lstrip("\ufeff") for c in chunk.columns]
                chunk["_row"] = np.arange(row + 1, row + len(chunk) + 1)
                row += len(chunk)
                progress(raw.tell(), src.size)
                yield chunk
    except pd.errors.EmptyDataError:
        return
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise _csv_error(src, row + 1, exc) from exc


def _csv_error(src: Source, row: int, exc: Exception) -> ReadError:
    reason = str(exc.params.get("reason", exc)) if isinstance(exc, ReadError) else str(exc)
    return ReadError(f"{src.path.name} cannot be read as CSV near data row {row}: {reason}; "
                     "check the quoting of that row or re-export the file",
                     key="ingest.error_csv", path=str(src.path), row=row, reason=reason)


def _block_chunks(src: Source, chunksize, progress):
    """Chunks of ``chunksize`` rows (the last may be shorter) parsed from the blocks of :func:`csv_blocks`.

    A file with a header and no rows gives one empty chunk (its columns), as pandas does.
    """
    src.mixed_encoding_fixes = 0
    block_bytes = min(32 << 20, max(1 << 18, chunksize * 512))  # a block usually holds a whole chunk
    parsed = done = 0
    pending: list[pd.DataFrame] = []
    frame = None
    for header, body, _ in _blocks(src, block_bytes, progress, header_only=True):
        try:
            frame, fixes = parse_csv_block(src, header, body)
        except ReadError as exc:
            line = re.search(r"line (\d+)", str(exc.params.get("reason", exc)))
            raise _csv_error(src, parsed + (int(line.group(1)) - 1 if line else 1), exc) from exc
        src.mixed_encoding_fixes += fixes
        frame["_row"] = np.arange(parsed + 1, parsed + len(frame) + 1)
        parsed += len(frame)
        if len(frame):
            pending.append(frame)
        if parsed - done >= chunksize:
            rows = pd.concat(pending, ignore_index=True) if len(pending) > 1 else pending[0]
            whole = (len(rows) // chunksize) * chunksize
            for lo in range(0, whole, chunksize):
                yield _numbered(rows.iloc[lo : lo + chunksize], done)
                done += chunksize
            pending = [rows.iloc[whole:]] if whole < len(rows) else []
    if pending:
        rows = pd.concat(pending, ignore_index=True) if len(pending) > 1 else pending[0]
        yield _numbered(rows, done)
    elif not done and frame is not None:  # a header and no rows
        yield frame


def _numbered(chunk: pd.DataFrame, start: int) -> pd.DataFrame:
    chunk = chunk.copy()
    chunk.index = pd.RangeIndex(start, start + len(chunk))
    return chunk


_QUOTE, _LF, _CR = 0x22, 0x0A, 0x0D


def _record_ends(buf: bytes, delimiter: int | None = 0x2C, final: bool = True, quote: int = _QUOTE) -> np.ndarray:
    """Offsets just past each line break that ends a record in ``buf`` (which starts at the start of a record).

    A record ends at ``\n`` (also of ``\r\n``) or at a ``\r`` alone (old Mac Excel) outside quoted
    fields. Quotes are read as Python's :mod:`csv` module and pandas' parsers read them (RFC 4180):
    a quote opens a quoted field only at the start of a field; a quote anywhere else in an unquoted
    field is a literal character; inside a quoted field ``""`` stands for a quote. A ``\r`` that is
    the last byte of ``buf`` ends a record only when ``final`` (otherwise a ``\n`` may follow it).
    """
    arr = np.frombuffer(buf, dtype=np.uint8)
    ends = np.flatnonzero(arr == _LF)
    cr = np.flatnonzero(arr == _CR)
    if len(cr):
        nxt = cr + 1
        inside = nxt < len(arr)
        lone = cr[inside][arr[nxt[inside]] != _LF]
        if final and not inside[-1]:
            lone = np.append(lone, cr[-1])
        if len(lone):
            ends = np.sort(np.concatenate([ends, lone]))
    if not len(ends):
        return ends
    quotes = np.flatnonzero(arr == quote)
    if not len(quotes):
        return ends + 1
    toggles = _toggling_quotes(arr, quotes, delimiter, quote)
    return ends[(np.searchsorted(toggles, ends) & 1) == 0] + 1


def _toggling_quotes(arr: np.ndarray, quotes: np.ndarray, delimiter: int | None, quote: int = _QUOTE) -> np.ndarray:
    """The quotes that open or close quoted fields (a ``""`` inside one counts twice); literal quotes left out.

    Fast path: in a file quoted by the rules every quote toggles. That holds when each quote that
    would open a field (an even number of quotes before it) follows a delimiter, a line break, the
    start of ``buf`` or the quote just closed, and each quote that would close one is followed by a
    delimiter, a line break, a quote or the end of ``buf``. Otherwise the quotes are walked one by one.
    """
    seps = [_LF, _CR] if delimiter is None else [_LF, _CR, delimiter]
    prev = arr[np.maximum(quotes - 1, 0)]
    starts = np.isin(prev, seps) | (quotes == 0)  # a quote here opens a field (when not inside one)
    nxt = arr[np.minimum(quotes + 1, len(arr) - 1)]
    opening = (np.arange(len(quotes)) & 1) == 0
    if np.where(opening, starts | (prev == quote), np.isin(nxt, seps + [quote]) | (quotes == len(arr) - 1)).all():
        return quotes
    out = []
    quoted, closed = False, -2
    for pos, start in zip(quotes.tolist(), starts.tolist()):
        if quoted:  # closes the field, or is the first of a ""
            quoted, closed = False, pos
            out.append(pos)
        elif start or pos == closed + 1:  # opens a field, or is the second of a ""
            quoted = True
            out.append(pos)
        # else: a literal quote inside an unquoted field (or after a closed one)
    return np.asarray(out, dtype=np.int64)


def _delimiter_byte(src: Source) -> int | None:
    raw = (src.delimiter or ",").encode("utf-8")
    return raw[0] if len(raw) == 1 else None


def csv_blocks(src: Source, block_bytes: int = 32 << 20,
               progress: Callable[[int, int], None] | None = None) -> Iterator[tuple[bytes, bytes]]:
    """Yield ``(header, body)`` byte blocks of a splittable CSV, each body a whole number of records.

    Parse each with :func:`parse_csv_block`. The header record is repeated with every body.
    """
    for header, body, _ in _blocks(src, block_bytes, progress):
        yield header, body


def csv_block_spans(src: Source, block_bytes: int = 32 << 20,
                    progress: Callable[[int, int], None] | None = None) -> Iterator[tuple[bytes, tuple[int, int]]]:
    """The blocks of :func:`csv_blocks` as ``(header, (offset, length))``: where each body lies in the file.

    A worker reads its body itself (:func:`read_span`), so the bytes are not copied through a pipe to it.
    """
    for header, body, offset in _blocks(src, block_bytes, progress):
        yield header, (offset, len(body))


def read_span(src: Source, span: tuple[int, int]) -> bytes:
    """The bytes of a body of :func:`csv_block_spans` (the file changed under the import if they are fewer)."""
    offset, length = span
    with open(src.path, "rb") as fh:
        data = os.pread(fh.fileno(), length, offset) if length else b""
    if len(data) != length:
        raise ReadError(f"{src.path.name} changed while it was being imported (it is shorter than it was); "
                        "import it again once it is complete", key="ingest.error_changed", path=str(src.path))
    return data


def _blocks(src: Source, block_bytes: int, progress=None, header_only: bool = False):
    """``(header, body, offset of the body in the file)`` of :func:`csv_blocks`; with ``header_only``, a file with a
    header and no records gives ``(header, b"", end)``."""
    if block_bytes < 1:
        raise ValueError(f"block_bytes must be positive, got {block_bytes}")
    progress = progress or (lambda done, total: None)
    delimiter = _delimiter_byte(src)
    with open(src.path, "rb") as fh:
        carry = b""
        header = None
        done = 0  # bytes of the file before buf
        sent = False
        titles = src.header_row  # records above the header: a report's title rows, skipped
        while True:
            data = fh.read(block_bytes)
            buf = carry + data
            if header is None:
                if not data and not buf:
                    return
                ends = _record_ends(buf, delimiter, final=not data)
                if len(ends) <= titles and data:
                    carry = buf
                    continue
                skip = int(ends[titles - 1]) if titles and len(ends) >= titles else (len(buf) if titles else 0)
                cut = int(ends[titles]) if len(ends) > titles else len(buf)
                header, buf = buf[skip:cut], buf[cut:]
                done += cut
            if not data:  # end of file: whatever is left is the last block
                if buf.strip(b"\r\n"):
                    yield header, buf, done
                elif header_only and not sent:
                    yield header, b"", done
                progress(src.size, src.size)
                return
            ends = _record_ends(buf, delimiter, final=False)
            if not len(ends):
                carry = buf
                continue
            cut = int(ends[-1])
            carry = buf[cut:]
            sent = True
            yield header, buf[:cut], done
            done += cut
            progress(done, src.size)


def _parse_bytes(src: Source, data: bytes, errors: str) -> pd.DataFrame:
    import io

    return pd.read_csv(io.BytesIO(data), sep=src.delimiter, dtype=str, na_filter=False, encoding=src.encoding,
                       encoding_errors=errors, engine="c", skipinitialspace=False, on_bad_lines="error")


def _parse_block(src: Source, header: bytes, body: bytes, errors: str) -> pd.DataFrame:
    """Parse a header and a body of records: Arrow's CSV reader when it reads them as pandas would, else pandas'.

    The header is always read by pandas (its names, repeated names made unique, stay pandas'). Arrow
    reads the body (decoded here, as pandas decodes it) unless the file has one column or a single-byte
    delimiter cannot be named; where the two parsers could differ (a record with too few or too many
    fields, a blank-looking line of spaces, an unterminated quote) Arrow refuses and pandas reads the
    whole block, so every frame is the one pandas gives. A decoding error is raised as pandas raises it.
    """
    names = _parse_bytes(src, header, errors).columns if body else None
    delimiter = src.delimiter or ","
    if names is None or len(names) < 2 or len(delimiter) != 1 or len(delimiter.encode("utf-8")) != 1:
        return _parse_bytes(src, header + body, errors)
    encoding = "utf-8" if src.encoding in UTF8 else src.encoding  # a byte-order mark can only open the header
    frame = _arrow_body(_utf8_body(body, encoding, errors), len(names), delimiter)
    if frame is None:
        return _parse_bytes(src, header + body, errors)
    frame.columns = names
    return frame


def _utf8_body(body: bytes, encoding: str, errors: str):
    """``body.decode(encoding, errors).encode("utf-8")`` (a UnicodeDecodeError as that raises it), without the
    Python string when it can: valid UTF-8 is itself, GBK and GB18030 go through :mod:`minqing.ingest.transcode`."""
    if encoding == "utf-8" and _valid_utf8(body):
        return body
    if readable(encoding):
        data = to_utf8(body, encoding)
        if data is not None:
            return data
    return body.decode(encoding, errors).encode("utf-8")


def _valid_utf8(data: bytes) -> bool:
    """True when ``data`` is well-formed UTF-8 (Arrow's check: it accepts what Python's strict decoder accepts)."""
    import pyarrow as pa

    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    try:
        pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(data)]).validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _arrow_body(data: bytes, ncols: int, delimiter: str) -> pd.DataFrame | None:
    """Records (well-formed UTF-8, as :func:`_utf8_body` gives them; not checked again, no header) as a frame of
    ``str`` columns 0..ncols-1; None when Arrow refuses them."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    names = [str(i) for i in range(ncols)]
    try:
        table = pcsv.read_csv(
            pa.py_buffer(data),
            read_options=pcsv.ReadOptions(column_names=names, use_threads=False, block_size=max(1 << 20, len(data) + 1)),
            parse_options=pcsv.ParseOptions(delimiter=delimiter, quote_char='"', double_quote=True, escape_char=False,
                                            newlines_in_values=True, ignore_empty_lines=True),
            # check_utf8=False: every body is valid UTF-8 already (see _utf8_body), a second check costs 4% of an import
            convert_options=pcsv.ConvertOptions(column_types={c: pa.string() for c in names}, null_values=[],
                                                strings_can_be_null=False, quoted_strings_can_be_null=False,
                                                check_utf8=False))
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    if table.num_rows == 0:
        return None
    return table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow", na_value=np.nan)}.get)


def parse_csv_block(src: Source, header: bytes, body: bytes) -> tuple[pd.DataFrame, int]:
    """Parse one block from :func:`csv_blocks` into strings; return the frame and its mixed-encoding fixes.

    Rows are numbered ``_row`` 1..n within the block. In a UTF-8 file, a line that is not UTF-8 is
    read as GB18030 (see :func:`minqing.ingest.encodings.redecode_lines`); the fixes count such lines of ``body`` (the
    header, repeated with every block, is re-decoded but not counted).
    """
    utf8 = src.encoding in UTF8
    fixes = 0
    try:
        try:
            chunk = _parse_block(src, header, body, "strict" if utf8 else "replace")
        except UnicodeDecodeError:
            if not utf8:
                raise
            header, _ = redecode_lines(header)
            body, fixes = redecode_lines(body)
            chunk = _parse_block(src, header, body, "replace")
    except pd.errors.EmptyDataError:
        chunk = pd.DataFrame()
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ReadError(f"{src.path.name} cannot be read as CSV: {exc}; "
                        "check the quoting of that row or re-export the file",
                        key="ingest.error_csv", path=str(src.path), row=0, reason=str(exc)) from exc
    chunk.columns = [str(c).strip().lstrip("\ufeff") for c in chunk.columns]
    chunk["_row"] = np.arange(1, len(chunk) + 1)
    # a cell can hold NUL only if its bytes do (no encoding read here makes U+0000 of other bytes)
    return (visible_nul(chunk) if b"\x00" in body else chunk), fixes
