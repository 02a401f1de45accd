"""Which single channel drives a unit's count: the flag beside a colour or a rank ("扫码上报 61 %").

The rule (one home for every map and table): in one period, channel ``c``
drives unit ``u`` when

- ``c`` makes at least :data:`SURGE_SHARE` (20 %) of ``u``'s orders, and
- that share is at least :data:`SURGE_RATIO` (3) times ``c``'s share in the
  *typical* unit of the same map or table: the median over its units (a unit
  without orders of ``c`` counts as 0 %).

A map's colours and a table's ranks compare units with each other in one
period, so the question is whether a unit's lead comes from a channel the
typical unit hardly uses (殷行's stairwell QR codes: 61 % of its orders, 0 %
in the median sub-district). The median, not the pooled rest, because a
channel that floods a few units would otherwise raise the bar for each of
them (QR codes are a quarter of all place orders, all of them at 殷行's
compounds). A unit's own past would miss a channel that has been there for a
year. With one channel chosen every share is 100 % and nothing is flagged; a
single unit is its own median.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from minqing.model import CHANNELS

SURGE_SHARE = 0.20
SURGE_RATIO = 3.0


def typical_shares(counts: pd.DataFrame, key: str = "code") -> pd.Series:
    """Return each channel's share of the orders in the typical unit: the median over the units with orders.

    A unit without orders of a channel counts as 0 % of it (the rule of :func:`channel_surges`,
    whose ``counts`` and ``key`` this takes).

    Returns
    -------
    Series
        float64 median shares indexed by channel (the channels with orders, sorted); empty without orders.
    """
    return _shares(counts, key)[1].median(axis=0).astype("float64")


def _shares(counts: pd.DataFrame, key: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (orders, shares) per unit (rows, the units with orders) and channel (columns, sorted)."""
    missing = [c for c in (key, "channel", "tickets") if c not in counts.columns]
    if missing:
        raise ValueError(f"counts lack column(s) {missing}; channel_surges needs {key}, channel, tickets")
    wide = counts.dropna(subset=[key, "channel"]).pivot_table(index=key, columns="channel", values="tickets",
                                                              aggfunc="sum", fill_value=0)
    wide = wide[wide.sum(axis=1) > 0]
    return wide, wide.div(wide.sum(axis=1), axis=0)


def channel_surges(counts: pd.DataFrame, key: str = "code", typical: pd.Series | None = None) -> pd.DataFrame:
    """Return the units whose count one channel drives, with that channel and its share.

    Parameters
    ----------
    counts : DataFrame
        Columns ``key``, ``channel`` and ``tickets``: one period's orders per unit and channel.
    key : str
        The unit column.
    typical : Series, optional
        The typical unit's shares by channel (:func:`typical_shares`) when ``counts`` holds only
        some of the map's or table's units (a channel missing from it counts as 0 %); by default
        the median over the units of ``counts``.

    Returns
    -------
    DataFrame
        ``key``, ``channel``, ``share`` (of the unit's orders), ``share_typical``
        (the median unit's share) and ``tickets`` (the channel's orders in the
        unit); one row per flagged unit (the channel with the largest share when
        two qualify).
    """
    cols = [key, "channel", "share", "share_typical", "tickets"]
    wide, share = _shares(counts, key)
    if wide.empty:
        return pd.DataFrame(columns=cols)
    typical = share.median(axis=0) if typical is None else typical.reindex(share.columns).fillna(0.0)
    hit = (share >= SURGE_SHARE) & (share >= SURGE_RATIO * typical)
    r, c = np.nonzero(hit.to_numpy())
    out = pd.DataFrame({key: share.index[r].to_numpy(dtype=object), "channel": share.columns[c].to_numpy(dtype=object),
                        "share": share.to_numpy()[r, c], "share_typical": typical.to_numpy()[c],
                        "tickets": wide.to_numpy()[r, c].astype("int64")})
    out = out.sort_values([key, "share"], ascending=[True, False]).drop_duplicates(key)
    return out.reset_index(drop=True)


def surge_label(channel: str, share: float, lang: str = "zh") -> str:
    """Return the flag text, e.g. ``扫码上报 61 %`` / ``QR code 61 %``."""
    name = CHANNELS[channel].label(lang) if channel in CHANNELS else str(channel)
    return f"{name} {share * 100:.0f} %"


def surge_labels(counts: pd.DataFrame, key: str = "code", lang: str = "zh") -> dict:
    """Return ``{unit: flag text}`` for the units :func:`channel_surges` flags."""
    s = channel_surges(counts, key)
    return {k: surge_label(ch, sh, lang) for k, ch, sh in zip(s[key], s["channel"], s["share"])}
