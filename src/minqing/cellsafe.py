"""Spreadsheet cells that are never run as formulas: the one rule every export and import follows.

Ticket text, addresses and the columns of a quarantined row come from outside and may
hold spreadsheet formulas (``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``). Every CSV and
XLSX file written (:mod:`minqing.export.writer`) passes its text cells through
:func:`neutralise`, which puts a ``'`` before a formula lead; an import
(:mod:`minqing.ingest.normalise`) undoes it with :func:`restore_series`, so a quarantine
export fixed in Excel and imported again gives back the values it started from.
"""

from __future__ import annotations

import re

import pandas as pd

#: Characters that make Excel or WPS read a cell as a formula (or a DDE call).
FORMULA_LEADS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20")

# a formula lead after leading blanks (a spreadsheet skips them)
_LEAD_AFTER_SPACE = re.compile(r"\s+[=+\-@\t\r\uff1d\uff0b\uff0d\uff20]")
# the ``'`` that :func:`neutralise` put before a formula lead
_NEUTRALISED = re.compile(r"^'(?=\s*[=+\-@\t\r\uff1d\uff0b\uff0d\uff20])")


def neutralise(value):
    """Return ``value`` with a leading ``'`` if it is text a spreadsheet would run as a formula.

    Text that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return gets the quote (OWASP's rule for CSV injection), as does text whose
    first non-blank character is one of these, and the full-width forms
    ``＝＋－＠`` that Excel and WPS may also accept. Anything that is not text
    (numbers, ``None``, NaN, timestamps) is returned unchanged.

    Parameters
    ----------
    value : object

    Returns
    -------
    object
        ``"'" + value`` for dangerous text, else ``value`` itself.

    Examples
    --------
    >>> neutralise("=1+2")
    "'=1+2"
    >>> neutralise("  @SUM(A1)")
    "'  @SUM(A1)"
    >>> neutralise("路灯不亮"), neutralise(-1)
    ('路灯不亮', -1)
    """
    if isinstance(value, str) and value and (
            value[0] in FORMULA_LEADS or (value[0].isspace() and _LEAD_AFTER_SPACE.match(value))):
        return "'" + value
    return value


def restore_series(values: pd.Series) -> pd.Series:
    """Undo :func:`neutralise` on a Series of strings: drop the ``'`` before a formula lead.

    A quarantine export fixed in Excel and imported again then gives back the
    values it started from (``'=1+2`` is read as ``=1+2``, stored as text).

    Examples
    --------
    >>> restore_series(pd.Series(["'=1+2", "'abc", "=x"])).tolist()
    ['=1+2', "'abc", '=x']
    """
    quoted = values.str.startswith("'").fillna(False).to_numpy(dtype=bool)
    if not quoted.any():  # the usual case, and cheap: one vectorised test per column
        return values
    out = values.copy()
    out[quoted] = values[quoted].str.replace(_NEUTRALISED, "", regex=True)
    return out
