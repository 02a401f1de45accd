"""Counts of tickets by unit, with rates per 1,000 residents."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd


def counts_by_unit(units: gpd.GeoDataFrame, counts: pd.DataFrame) -> gpd.GeoDataFrame:
    """Attach ticket counts and rates per 1,000 residents to units.

    Parameters
    ----------
    units : GeoDataFrame
        Units of one level with ``code`` and ``population`` (may be missing).
    counts : DataFrame
        Columns ``code`` and ``tickets`` (as from ``Store.count_tickets``);
        codes not among ``units`` (and unlinked tickets) are ignored.

    Returns
    -------
    GeoDataFrame
        ``units`` plus ``tickets`` (0 where none), ``rate`` (per 1,000
        residents, NaN where population is unknown or 0) and ``share`` of the
        units' total.
    """
    if "code" not in units.columns:
        raise ValueError("units need a 'code' column")
    c = counts.dropna(subset=["code"]).groupby("code")["tickets"].sum()
    out = units.copy()
    out["tickets"] = out["code"].map(c).fillna(0).astype("int64")
    pop = pd.to_numeric(out.get("population"), errors="coerce").astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["rate"] = np.where(pop > 0, out["tickets"] / pop * 1000.0, np.nan)
    total = out["tickets"].sum()
    out["share"] = out["tickets"] / total if total else 0.0
    return out
