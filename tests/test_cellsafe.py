"""Text a spreadsheet would run as a formula gets a leading quote, and an import takes it off again."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from minqing.cellsafe import neutralise, restore_series

LEADS = set("=+-@\t\r\uff1d\uff0b\uff0d\uff20")
PAYLOADS = [
    "=1+2",
    '=HYPERLINK("http://x","y")',
    "=cmd|' /C calc'!A0",
    "+1",
    "-1+1",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "\uff1d1+2",  # full-width equals sign
    "  =1+2",  # a formula after leading blanks
    "\u3000@SUM(A1)",
]
HARMLESS = ["a\rb", "a\r\nb", "line1\nline2", "路灯不亮，请尽快处理", "a=1", "1-2", "'=already quoted", "#N/A", ""]


def dangerous(value) -> bool:
    """A text cell a spreadsheet could run: a formula lead first, or first after blanks."""
    return isinstance(value, str) and bool(value) and (value[0] in LEADS or value.lstrip()[:1] in LEADS)


# --- neutralise -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_formula_leads_get_a_quote(payload):
    assert neutralise(payload) == "'" + payload


@pytest.mark.parametrize("text", HARMLESS + ["\n", " ", "line1\n=2", "ab\x00"])
def test_harmless_text_is_unchanged(text):
    assert neutralise(text) == text


@pytest.mark.parametrize("value", [1, -1, -1.5, 0.0, None, np.nan, pd.NaT, pd.NA, True, np.int64(-3),
                                   pd.Timestamp("2025-04-03 14:05", tz="Asia/Shanghai")])
def test_non_text_is_untouched(value):
    assert neutralise(value) is value


# text quoted already ("'=already quoted") reads as neutralised and loses its quote
@pytest.mark.parametrize("text", PAYLOADS + [h for h in HARMLESS if not h.startswith("'")])
def test_restore_undoes_neutralise(text):
    assert restore_series(pd.Series([neutralise(text)])).tolist() == [text]
