"""Which single channel drives a unit's count: the flag beside a colour or a rank ("扫码上报 61 %").

The rule (one home for every map and table): in one period, channel ``c``
drives unit ``u`` when

- ``c`` makes at least :data:`SURGE_SHARE` (20 %) of ``u``'s orders, and
- that share is at least :data:`SURGE_RATIO` (3) times ``c``'s share of the
  orders of all the *other* units in the same map or table.

A map's colours and a table's ranks compare units with each other in one
period, so the question is whether one unit's lead comes from a channel the
others hardly use (殷行's stairwell QR codes: 61 % of its orders, about 0 %
elsewhere). A unit's own past would miss a channel that has been there for a
year. With one channel chosen every share is 100 % and nothing is flagged;
with a single unit there is nothing to compare with.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from minqing.model import CHANNELS

SURGE_SHARE = 0.20
SURGE_RATIO = 3.0


def channel_surges(counts: pd.DataFrame, key: str = "code") -> pd.DataFrame:
    """Return the units whose count one channel drives, with that channel and its share.

    Parameters
    ----------
    counts : DataFrame
        Columns ``key``, ``channel`` and ``tickets``: one period's orders per unit and channel.
    key : str
        The unit column.

    Returns
    -------
    DataFrame
        ``key``, ``channel``, ``share`` (of the unit's orders), ``share_elsewhere``
        and ``tickets`` (the channel's orders in the unit); one row per flagged
        unit (the channel with the largest share when two qualify).
    """
    cols = [key, "channel", "share", "share_elsewhere", "tickets"]
    missing = [c for c in (key, "channel", "tickets") if c not in counts.columns]
    if missing:
        raise ValueError(f"counts lack column(s) {missing}; channel_surges needs {key}, channel, tickets")
    c = counts.dropna(subset=[key, "channel"]).groupby([key, "channel"], sort=True)["tickets"].sum()
    c = c[c > 0]
    if c.empty:
        return pd.DataFrame(columns=cols)
    c = c.reset_index()
    unit = c.groupby(key)["tickets"].transform("sum")
    chan = c.groupby("channel")["tickets"].transform("sum")
    total = c["tickets"].sum()
    c["share"] = c["tickets"] / unit
    with np.errstate(divide="ignore", invalid="ignore"):
        c["share_elsewhere"] = ((chan - c["tickets"]) / (total - unit)).fillna(np.nan)
    has_others = (total - unit) > 0
    hit = has_others & (c["share"] >= SURGE_SHARE) & (c["share"] >= SURGE_RATIO * c["share_elsewhere"])
    out = c[hit].sort_values([key, "share"], ascending=[True, False]).drop_duplicates(key)
    return out[cols].reset_index(drop=True)


def surge_label(channel: str, share: float, lang: str = "zh") -> str:
    """Return the flag text, e.g. ``扫码上报 61 %`` / ``QR code 61 %``."""
    name = CHANNELS[channel].label(lang) if channel in CHANNELS else str(channel)
    return f"{name} {share * 100:.0f} %"


def surge_labels(counts: pd.DataFrame, key: str = "code", lang: str = "zh") -> dict:
    """Return ``{unit: flag text}`` for the units :func:`channel_surges` flags."""
    s = channel_surges(counts, key)
    return {k: surge_label(ch, sh, lang) for k, ch, sh in zip(s[key], s["channel"], s["share"])}
