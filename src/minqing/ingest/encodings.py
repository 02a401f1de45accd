"""Text encodings of CSV exports: detection from the file's head, and lines of GB18030 in a UTF-8 file.

Hotline systems export UTF-8 (with or without a byte-order mark), GB18030/GBK or, rarely,
something else (found by ``charset_normalizer``); a file edited on two machines may be UTF-8
with some lines in GB18030, which :func:`redecode_lines` repairs line by line.
"""

from __future__ import annotations

import csv

from minqing.ingest.errors import ReadError

SAMPLE = 1 << 20
"""Bytes of a file's head read to tell its format, encoding and delimiter."""
BOM = b"\xef\xbb\xbf"
UTF8 = ("utf-8", "utf-8-sig")


def detect_encoding(head: bytes) -> str:
    """Return the encoding of a CSV file from its head (:data:`SAMPLE` bytes, or the whole file when shorter)."""
    if head.startswith(BOM):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    lines = head.splitlines()  # \n, \r\n or \r alone (old Mac Excel)
    if len(head) >= SAMPLE:  # the sample's last line may be cut inside a character
        lines = lines[:-1] or [head]
    utf8_lines = other_lines = 0
    for line in lines:
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8_lines += 1
        except UnicodeDecodeError:
            other_lines += 1
    if utf8_lines or not other_lines:
        return "utf-8"  # bytes that are not UTF-8 are read as GB18030, line by line (mixed files)
    try:
        b"\n".join(lines).decode("gb18030")
        return "gb18030"  # GB18030 is a superset of GBK and GB2312
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    if best is None:
        raise ReadError("the text encoding of the file cannot be detected; save it as UTF-8 CSV",
                        key="ingest.error_encoding")
    enc = best.encoding.lower()
    return "gb18030" if enc in ("gbk", "gb2312", "cp936", "hz") else enc

def detect_delimiter(head: bytes, encoding: str) -> str:
    """Return the delimiter of a CSV file (comma, tab, semicolon or bar) from its head."""
    text = head.decode(encoding if encoding != "utf-8" else "utf-8", errors="ignore")
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",\t;|").delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        counts = {d: first.count(d) for d in ",\t;|"}
        return max(counts, key=counts.get) if any(counts.values()) else ","

def redecode_lines(data: bytes) -> tuple[bytes, int]:
    """Return ``data`` (UTF-8 with stray lines in another encoding) as UTF-8, and how many lines were fixed.

    A line that is not valid UTF-8 is decoded as GB18030 (a superset of GBK and GB2312) as a whole;
    one that is not valid GB18030 either is decoded as UTF-8 with U+FFFD for the bad bytes. Line
    breaks, quotes and delimiters are single bytes in both encodings, so records stay as they were.
    """
    bom = BOM if data.startswith(BOM) else b""
    data = data[len(bom):]
    try:
        data.decode("utf-8")
        return bom + data, 0
    except UnicodeDecodeError as exc:
        start = max(data.rfind(b"\n", 0, exc.start), data.rfind(b"\r", 0, exc.start)) + 1
    parts = [bom, data[:start]]
    fixes = 0
    for line in data[start:].splitlines(keepends=True):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            fixes += 1
            try:
                line = line.decode("gb18030").encode("utf-8")
            except UnicodeDecodeError:
                line = line.decode("utf-8", errors="replace").encode("utf-8")
        parts.append(line)
    return b"".join(parts), fixes
