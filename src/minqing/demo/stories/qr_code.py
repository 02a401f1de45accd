"""Story g, QR codes: a new intake channel that adds tickets but changes no problem counts.

A sub-district launches QR codes on 2025-10-01: +150 % extra tickets via
``qr_code`` for minor issues; other channels unchanged.  Expected verdict
``no_clear_change`` in problems.

:func:`plant` records the intervention; the extra tickets depend on the
background volume, so the background sizes them (:func:`extra_factor`) and
adds them (:func:`plant_extra`) after its own tickets.
"""

from __future__ import annotations

import numpy as np

from minqing.demo.calendar import Calendar
from minqing.demo.parts import Accumulator, pick
from minqing.demo.stories.context import StoryContext
from minqing.demo.world import office

KEY = "g_qr_code"
LAUNCH = "2025-10-01"
EXTRA_SHARE = 1.5
"""Extra QR-code tickets after the launch, as a share of the sub-district's background volume."""
CATEGORY_MIX = {"01.01.01": 0.3, "03.02.01": 0.2, "04.03.01": 0.3, "05.02.01": 0.2}


def plant(ctx: StoryContext) -> tuple[dict, list[dict]]:
    """Plant the story's tickets; return its ground truth and its interventions."""
    w = ctx.world
    ivs: list[dict] = []
    g_sd = ctx.sel["g"]
    g_grids = sorted({str(w.g_code[i]) for i in np.flatnonzero(w.g_current & (w.g_sd == g_sd))})
    sd_name = w.sd_name.get(g_sd, g_sd)
    ivs.append(dict(key="g1", story=KEY, name=f"{sd_name}“扫码即办”楼道二维码上线", type="policy",
                    start_date=LAUNCH, end_date=None, implementation_end="2025-10-31",
                    units_involved=f"{office(sd_name)}、各居民区、网格工作站",
                    description="在辖区每个楼道张贴二维码，居民扫码即可上报小区和周边的小问题，工单直派网格。",
                    target_categories=list(CATEGORY_MIX),
                    targets=[("grid", code) for code in g_grids]))
    story = {
        "places": [], "subdistrict_code": g_sd, "subdistrict_name": sd_name, "grid_codes": g_grids,
        "categories": list(CATEGORY_MIX), "interventions": ["g1"],
        "dates": {"launch": LAUNCH},
        "planted_effect": {"extra_qr_share_of_subdistrict_volume": EXTRA_SHARE, "other_channels_change": 0.0},
        "expected_verdict": "no_clear_change", "expected_verdict_on": "channels other than qr_code",
        "selection_rule": "殷行街道 (310110016) if present, else 长白新村街道 (310110013), else the most populous",
        "description_zh": "扫码上报：街道全域上线楼道二维码后工单量大增，但都是新渠道带来的小问题，其他渠道的问题数量不变。",
        "description_en": "QR codes in every stairwell: tickets rose by ~150% after the launch, all via the new channel; "
                          "problem counts on other channels did not change.",
    }
    return story, ivs


def extra_factor(cal: Calendar, share: float) -> float:
    """Extra QR-code tickets per background ticket, given the sub-district's ``share`` of the background."""
    launch = int(max(cal.day(LAUNCH), 0))
    post = cal.p[launch:].sum() if launch < cal.n else 0.0
    return EXTRA_SHARE * share * post


def plant_extra(acc: Accumulator, g_sd: str, cal: Calendar, rng, n_qr: int, eligible: np.ndarray,
                cur: np.ndarray) -> None:
    """Add ``n_qr`` QR-code tickets after the launch in sub-district ``g_sd``.

    Parameters
    ----------
    acc : Accumulator
    g_sd : str
        The story's sub-district.
    cal : Calendar
    rng : numpy.random.Generator
        The background's stream (the tickets are drawn after the background's own).
    n_qr : int
    eligible : ndarray
        Indices of the places the background may use; 40 % of the tickets are at its
        compounds in ``g_sd`` (when there are any), the rest in its current grids.
    cur : ndarray
        Indices of the current grid versions.
    """
    if not n_qr:
        return
    w = acc.world
    launch = int(max(cal.day(LAUNCH), 0))
    days = cal.sample_days(n_qr, rng, first_day=launch)
    t = cal.times(days, rng)
    sd_comp = np.array([i for i in eligible if w.p_sd[i] == g_sd and w.p_kind[i] == "compound"], dtype=int)
    at_place = (rng.random(n_qr) < 0.4) if len(sd_comp) else np.zeros(n_qr, dtype=bool)
    sd_cur = cur[w.g_sd[cur] == g_sd]
    sgw = w.g_pop[sd_cur] / w.g_pop[sd_cur].sum()
    qr_ids = np.char.add(f"QR-{g_sd[-3:]}-", np.char.zfill(rng.integers(1, 5000, n_qr).astype(str), 4))
    extra = np.char.add(np.char.add('{"qr_code": "', qr_ids), '"}').astype(object)
    kind = pick(rng, {"help": 0.5, "report": 0.3, "complaint": 0.2}, n_qr)
    cat = pick(rng, CATEGORY_MIX, n_qr)
    m = at_place
    if m.any():
        pl = sd_comp[rng.integers(0, len(sd_comp), m.sum())]
        acc.add(t=t[m], cat=cat[m], channel="qr_code", kind=kind[m], fp=pl, place=pl, story=KEY, extra=extra[m])
    m = ~at_place
    grid = sd_cur[rng.choice(len(sd_cur), size=m.sum(), p=sgw)]
    ver, tt = w.version_at(grid, t[m], rng)
    acc.add(t=tt, cat=cat[m], channel="qr_code", kind=kind[m], ver=ver, story=KEY, extra=extra[m])
