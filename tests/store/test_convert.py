"""One time to epoch seconds (``epoch_of``, every filter bound of every store read) keeps the rule of the Series one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from minqing.store.convert import epoch_of, times_to_epoch

VALUES = ["2025-03-01", "2025-03-01 10:00:00.7", pd.Timestamp("2025-03-01", tz="Asia/Shanghai"),
          pd.Timestamp("1969-12-31 23:59:59.5", tz="UTC"), "2025-11-02 01:30", "2025-03-09 02:30",
          pd.Timestamp("2025-06-01", tz="America/Chicago").as_unit("s"), pd.Timestamp("2025-06-01 00:00:00.000001"),
          "2024-02-29T23:59:59+05:30", np.datetime64("2025-01-01T00:00")]


@pytest.mark.parametrize("tz", ["Asia/Shanghai", "America/Chicago", "UTC"])
@pytest.mark.parametrize("value", VALUES, ids=str)
def test_epoch_of_one_time_is_the_series_rule(value, tz):
    """Naive times are local in ``tz``, fractions are floored; an ambiguous or missing local time fails the same way."""
    def outcome(f):
        try:
            return f()
        except Exception as exc:  # noqa: BLE001 - the same failure is part of the rule
            return type(exc)

    one = outcome(lambda: epoch_of(value, tz))
    series = outcome(lambda: times_to_epoch(pd.Series([pd.Timestamp(value)]), tz)[0])
    assert one == series and type(one) is type(series)


def test_numbers_and_missing_values():
    assert epoch_of(1_700_000_000) == 1_700_000_000 and epoch_of(np.int64(5)) == 5 and epoch_of(2.9) == 2
    assert epoch_of(None) is None and epoch_of(pd.NaT) is None and epoch_of(np.nan) is None
