"""Tests of the seeded demo scenario (minqing.demo.scenario and its stories).

Every test runs on the demo city's layers in ``geodata/`` when they exist and
on a tiny fake city built here (three square 街道, a few grids, one grid split
on 2025-07-01, and the story places), so the generator is checked on both.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Point, box

from minqing import model
from minqing.demo.finish import TICKET_OUTPUT_COLUMNS
from minqing.demo.scenario import DemoScenario, generate_demo, write_truth
from minqing.demo.stories import STORY_KEYS

GEODATA = Path(__file__).resolve().parents[2] / "geodata"
N = 20_000
METRIC = "EPSG:32651"


# --------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------


def fake_layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A 3-街道 fake city: 2 communities per 街道, 2x2 grids each, one grid split."""
    rows = [dict(code="310110", level="district", name="杨浦区", parent_code=None, population=300000,
                 valid_from="2020-01-01", valid_to=None, geometry=box(121.50, 31.28, 121.56, 31.30))]
    for k, (sd, sd_name) in enumerate((("310110013", "长白新村街道"), ("310110015", "延吉新村街道"),
                                       ("310110016", "殷行街道"))):
        x0 = 121.50 + 0.02 * k
        rows.append(dict(code=sd, level="subdistrict", name=sd_name, parent_code="310110", population=100000,
                         valid_from="2020-01-01", valid_to=None, geometry=box(x0, 31.28, x0 + 0.02, 31.30)))
        for c in range(2):
            cc = f"{sd}{c + 1:03d}"
            y0 = 31.28 + 0.01 * c
            rows.append(dict(code=cc, level="community", name=f"第{c + 1}社区", parent_code=sd, population=50000,
                             valid_from="2020-01-01", valid_to=None, geometry=box(x0, y0, x0 + 0.02, y0 + 0.01)))
            for g in range(4):
                gx, gy = x0 + 0.01 * (g % 2), y0 + 0.005 * (g // 2)
                geom = box(gx, gy, gx + 0.01, gy + 0.005)
                code = f"{cc}{g + 1:03d}"
                split = sd == "310110016" and c == 0 and g == 1
                rows.append(dict(code=code, level="grid", name=f"第{g + 1}网格", parent_code=cc, population=12500,
                                 valid_from="2020-01-01", valid_to="2025-07-01" if split else None, geometry=geom))
                if split:
                    for h, half in enumerate((box(gx, gy, gx + 0.005, gy + 0.005),
                                              box(gx + 0.005, gy, gx + 0.01, gy + 0.005))):
                        rows.append(dict(code=f"{cc}{5 + h:03d}", level="grid", name=f"第{5 + h}网格",
                                         parent_code=cc, population=6250, valid_from="2025-07-01", valid_to=None,
                                         geometry=half))
    units = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)

    def square(x, y, d=0.0012):
        return box(x - d, y - d * 0.8, x + d, y + d * 0.8)

    places = [
        dict(place_id="HOSP-01", kind="hospital_entrance", name="长白社区卫生服务中心门口", aliases="长白社区医院",
             radius_m=80.0, buffer_m=None, subdistrict_code="310110013", geometry=Point(121.505, 31.295)),
        dict(place_id="HOSP-13", kind="hospital_entrance", name="安图医院门口", aliases="安图医院|安图医院大门",
             radius_m=80.0, buffer_m=None, subdistrict_code="310110013", geometry=Point(121.512, 31.2851)),
        dict(place_id="HOSP-09", kind="hospital_entrance", name="殷行社区卫生服务中心门口", aliases=None,
             radius_m=80.0, buffer_m=None, subdistrict_code="310110016", geometry=Point(121.555, 31.295)),
        dict(place_id="COMP-001", kind="compound", name="内江小区", aliases="内江路小区", radius_m=None,
             buffer_m=None, subdistrict_code="310110015", geometry=square(121.526, 31.287)),
    ]
    for i, (x, y) in enumerate([(121.503, 31.283), (121.517, 31.297), (121.524, 31.296), (121.536, 31.284),
                                (121.545, 31.297), (121.552, 31.287), (121.558, 31.283)], start=2):
        places.append(dict(place_id=f"COMP-{i:03d}", kind="compound", name=f"测试{i}小区", aliases=None,
                           radius_m=None, buffer_m=None, subdistrict_code=None, geometry=square(x, y)))
    roads = [("军工路（北段）", (121.541, 31.299), (121.559, 31.281))]
    roads += [(f"测试{i}路", (121.501 + 0.006 * i, 31.281), (121.501 + 0.006 * i, 31.299)) for i in range(8)]
    for i, (name, a, b) in enumerate(roads, start=1):
        places.append(dict(place_id=f"ROAD-{i:02d}", kind="road_stretch", name=name, aliases=None, radius_m=None,
                           buffer_m=25.0, subdistrict_code=None, geometry=LineString([a, b])))
    return units, gpd.GeoDataFrame(places, geometry="geometry", crs=4326)


def real_layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    frames = [gpd.read_file(GEODATA / f"{level}.geojson") for level in model.UNIT_LEVELS]
    units = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=4326)
    return units, gpd.read_file(GEODATA / "places.geojson")


HAVE_REAL = all((GEODATA / f"{name}.geojson").is_file() for name in (*model.UNIT_LEVELS, "places"))


@pytest.fixture(scope="module", params=["real", "fake"])
def layers(request):
    if request.param == "real":
        if not HAVE_REAL:
            pytest.skip("geodata/ layers not built yet")
        return real_layers()
    return fake_layers()


@pytest.fixture(scope="module")
def scenario(layers) -> DemoScenario:
    units, places = layers
    return generate_demo(units, places, n_target=N)


def _grids(units):
    g = units[units["level"] == "grid"].copy()
    g["vf"] = pd.to_datetime(g["valid_from"].astype(str).str[:10])
    return g


def _month(ts: pd.Series) -> pd.Series:
    return ts.dt.strftime("%Y-%m")


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------


def test_deterministic_for_a_seed(layers, scenario):
    units, places = layers
    again = generate_demo(units, places, n_target=N)
    pd.testing.assert_frame_equal(scenario.tickets, again.tickets)
    pd.testing.assert_frame_equal(scenario.truth, again.truth)
    pd.testing.assert_frame_equal(scenario.interventions, again.interventions)
    pd.testing.assert_frame_equal(scenario.intervention_targets, again.intervention_targets)
    assert json.dumps(scenario.stories, sort_keys=True) == json.dumps(again.stories, sort_keys=True)
    shuffled = generate_demo(units.sample(frac=1, random_state=3), places.sample(frac=1, random_state=4),
                             n_target=N)
    pd.testing.assert_frame_equal(scenario.tickets, shuffled.tickets)  # row order of the layers does not matter
    other = generate_demo(units, places, n_target=N, seed=7)
    assert not scenario.tickets["received_at"].equals(other.tickets["received_at"])
    assert not np.allclose(scenario.tickets["lon"].fillna(0).to_numpy()[:100],
                           other.tickets["lon"].fillna(0).to_numpy()[:100])


def test_columns_and_dtypes(scenario):
    t = scenario.tickets
    assert tuple(t.columns) == TICKET_OUTPUT_COLUMNS
    assert not set(model.LINK_COLUMNS) & set(t.columns)
    for col in model.TICKET_TIME_COLUMNS:
        assert isinstance(t[col].dtype, pd.DatetimeTZDtype), col
        assert str(t[col].dt.tz) == model.TIMEZONE
    assert t["lon"].dtype == np.float64 and t["lat"].dtype == np.float64
    assert t["source_id"].is_unique
    assert t["source_id"].str.fullmatch(r"YP\d{10}").all()
    assert set(t["channel"]) <= set(model.CHANNELS)
    assert set(t["kind"]) <= set(model.KINDS)
    leaves = {c for c, node in model.CATEGORIES.items() if node.level == 3}
    assert set(t["category"]) <= leaves
    assert set(t["location_source"]) <= {"coordinates", "none"}
    assert set(t["status"]) == {"open", "closed"}
    assert set(t["resolved"].dropna()) <= set(model.RESOLVED)
    assert set(t["satisfaction"].dropna()) <= set(model.SATISFACTION)
    assert t["text"].str.len().min() > 5 and t["address"].str.len().min() > 1
    phones = t["caller_phone"].dropna()
    assert phones.str.fullmatch(r"1[3-9]\d{9}").all()
    extra = t["extra"].dropna()
    assert len(extra) and all(isinstance(json.loads(x), dict) for x in extra.head(50))
    assert tuple(scenario.truth.columns) == ("source_id", "grid_code", "grid_valid_from", "place_id", "story")
    assert scenario.truth["source_id"].equals(t["source_id"])
    assert set(scenario.truth["story"].dropna()) == set(STORY_KEYS)


def test_count_near_target_and_mixes(scenario):
    t = scenario.tickets
    assert abs(len(t) - N) / N < 0.03
    base = t[t["channel"] != "qr_code"]["channel"].value_counts(normalize=True)
    assert 0.6 < base["hotline_12345"] < 0.8
    assert 0.05 < base[list(model.PROACTIVE_CHANNELS)].sum() < 0.15
    kinds = t["kind"].value_counts(normalize=True)
    assert 0.3 < kinds["complaint"] < 0.55 and kinds["praise"] < 0.05
    unloc = t["location_source"] == "none"
    assert 0.05 < unloc.mean() < 0.09
    assert t.loc[unloc, ["lon", "lat"]].isna().all().all()
    assert t.loc[~unloc, ["lon", "lat"]].notna().all().all()
    # a few percent of the texts name the caller or the phone number
    has_phone = t["caller_phone"].notna()
    in_text = [p in x for p, x in zip(t.loc[has_phone, "caller_phone"], t.loc[has_phone, "text"])]
    assert 0.01 < np.mean(in_text) < 0.06


def test_points_inside_their_truth_grid_version(layers, scenario):
    units, _ = layers
    grids = units[units["level"] == "grid"].copy()
    grids["grid_valid_from"] = grids["valid_from"].astype(str).str[:10]
    t, truth = scenario.tickets, scenario.truth
    located = t["location_source"] == "coordinates"
    merged = truth[located].merge(grids[["code", "grid_valid_from", "geometry"]],
                                  left_on=["grid_code", "grid_valid_from"], right_on=["code", "grid_valid_from"],
                                  how="left")
    assert merged["geometry"].notna().all()
    inside = shapely.contains_xy(np.asarray(merged["geometry"].values), t.loc[located, "lon"].to_numpy(),
                                 t.loc[located, "lat"].to_numpy())
    assert inside.all()
    # the truth version is valid when the ticket was received (the split grid)
    g = grids.set_index(["code", "grid_valid_from"])
    key = list(zip(truth["grid_code"], truth["grid_valid_from"]))
    vf = pd.to_datetime(pd.Series([k[1] for k in key])).dt.tz_localize(model.TIMEZONE)
    vt = pd.to_datetime(pd.Series([g.loc[k, "valid_to"] for k in key]).astype(object).map(
        lambda v: None if v is None or pd.isna(v) else str(v)[:10])).dt.tz_localize(model.TIMEZONE)
    received = t["received_at"].reset_index(drop=True)
    assert (received >= vf).all()
    assert ((received < vt) | vt.isna()).all()
    changed = grids[grids["valid_to"].notna()]
    assert len(changed) == 1
    old = truth["grid_code"] == changed["code"].iloc[0]
    assert old.any() and (t.loc[old, "received_at"] < pd.Timestamp("2025-07-01", tz=model.TIMEZONE)).all()


def test_place_tickets_inside_their_footprint(layers, scenario):
    _, places = layers
    metric = places.to_crs(METRIC).set_index("place_id")
    radius = pd.to_numeric(metric["radius_m"], errors="coerce").fillna(80.0)
    buffer = pd.to_numeric(metric["buffer_m"], errors="coerce").fillna(25.0)
    fp = {}
    for pid, row in metric.iterrows():
        geom = row.geometry
        if row["kind"] == "hospital_entrance":
            geom = geom.buffer(radius[pid], quad_segs=32)
        elif row["kind"] == "road_stretch":
            geom = geom.buffer(buffer[pid], quad_segs=32)
        fp[pid] = geom
    t, truth = scenario.tickets, scenario.truth
    sel = truth["place_id"].notna() & (t["location_source"] == "coordinates")
    assert sel.sum() > 0.2 * len(t)
    pts = gpd.GeoSeries(gpd.points_from_xy(t.loc[sel, "lon"], t.loc[sel, "lat"]), crs=4326).to_crs(METRIC)
    geoms = np.array([fp[p] for p in truth.loc[sel, "place_id"]], dtype=object)
    assert shapely.dwithin(geoms, np.asarray(pts.values), 0.5).all()  # hospital circles are polygonised
    # story tickets at their story's places
    for key in ("a_hospital_entrance", "b_bike_shed", "c_truck_parking", "d_streetlights"):
        ids = {p["place_id"] for p in scenario.stories[key]["places"]}
        assert set(truth.loc[truth["story"] == key, "place_id"]) <= ids


def test_story_a_drop_and_satisfaction(scenario):
    t, truth = scenario.tickets, scenario.truth
    story = scenario.stories["a_hospital_entrance"]
    pid = story["places"][0]["place_id"]
    at = (truth["place_id"] == pid) & t["category"].isin(story["categories"])
    months = _month(t.loc[at, "received_at"]).value_counts()
    before = months[[m for m in months.index if "2024-11" <= m <= "2025-03"]].mean()
    after = months[[m for m in months.index if "2025-07" <= m <= "2026-09"]].mean()
    assert 20 < before < 35
    assert 0.25 < after / before < 0.55
    sat = t.loc[at & t["satisfaction"].isin(["satisfied", "basically_satisfied", "unsatisfied"])]
    rec = sat["received_at"]
    mid = sat[(rec >= pd.Timestamp("2025-01-06", tz=model.TIMEZONE))
              & (rec < pd.Timestamp("2025-06-20", tz=model.TIMEZONE))]
    late = sat[rec >= pd.Timestamp("2025-06-20", tz=model.TIMEZONE)]
    assert (mid["satisfaction"] == "unsatisfied").mean() > 0.5
    assert (late["satisfaction"] == "satisfied").mean() > 0.6


def test_story_g_channel_mix(scenario):
    t, truth = scenario.tickets, scenario.truth
    g = scenario.stories["g_qr_code"]
    in_sd = truth["grid_code"].str.startswith(g["subdistrict_code"])
    launch = pd.Timestamp(g["dates"]["launch"], tz=model.TIMEZONE)
    before = in_sd & (t["received_at"] < launch)
    after = in_sd & (t["received_at"] >= launch)
    assert (t.loc[before, "channel"] == "qr_code").sum() == 0
    assert (t["channel"] == "qr_code").sum() == (t["channel"] == "qr_code")[in_sd].sum()
    qr = (t.loc[after, "channel"] == "qr_code").sum()
    other_after = after & (t["channel"] != "qr_code")
    assert 1.1 < qr / other_after.sum() < 1.9
    # the non-QR problem volume does not change: monthly means before and after
    m_before = _month(t.loc[before, "received_at"]).value_counts().mean()
    m_after = _month(t.loc[other_after, "received_at"]).value_counts().mean()
    assert 0.85 < m_after / m_before < 1.2
    qr_cats = t.loc[t["channel"] == "qr_code", "category"].value_counts(normalize=True)
    assert set(qr_cats.index) <= set(g["categories"]) | {c for c in t["category"].unique()} and qr_cats.iloc[0] > 0.2


def test_other_stories_planted(scenario):
    t, truth = scenario.tickets, scenario.truth
    month = _month(t["received_at"])

    def monthly(mask, lo, hi):
        m = month[mask]
        counts = m.value_counts()
        span = pd.period_range(lo, hi, freq="M").strftime("%Y-%m")
        return counts.reindex(span, fill_value=0).mean()

    b = truth["story"] == "b_bike_shed"
    citizen = b & ~t["channel"].isin(model.PROACTIVE_CHANNELS) & (t["kind"] != "praise")
    assert monthly(citizen, "2025-11", "2026-10") < 0.5 * monthly(citizen, "2024-11", "2025-08")
    pro = b & t["channel"].isin(model.PROACTIVE_CHANNELS)
    assert monthly(pro, "2025-11", "2026-10") > 3 * monthly(pro, "2024-11", "2025-08")
    assert (b & (t["kind"] == "praise")).sum() >= 5
    e = truth["story"] == "e_elevator_relapse"
    base, low, back = monthly(e, "2024-11", "2025-04"), monthly(e, "2025-06", "2026-02"), monthly(e, "2026-06", "2026-10")
    assert low < 0.5 * base and back > 0.75 * base
    f = truth["story"] == "f_regression_to_mean"
    peak = scenario.stories["f_regression_to_mean"]["dates"]["peak_month"]
    assert (month[f] == peak).sum() > 2 * monthly(f, "2024-11", "2026-10") * 0.9
    d = truth["story"] == "d_streetlights"
    assert len(scenario.stories["d_streetlights"]["places"]) >= 6
    assert monthly(d, "2025-12", "2026-10") < 0.5 * monthly(d, "2024-12", "2025-10") + 0.5
    c = truth["story"] == "c_truck_parking"
    assert 17 < monthly(c, "2024-11", "2026-10") < 25
    assert (t.loc[c, "category"] == "02.01.03").all()
    h = truth["story"] == "h_fumes_shop_row"
    assert monthly(h, "2025-12", "2026-10") < 0.5 * monthly(h, "2024-11", "2025-08")


def test_interventions(scenario):
    iv, tg = scenario.interventions, scenario.intervention_targets
    assert tuple(iv.columns) == model.INTERVENTION_COLUMNS
    assert len(iv) >= 8
    assert iv["intervention_id"].tolist() == list(range(1, len(iv) + 1))
    assert set(iv["type"]) <= set(model.INTERVENTION_TYPES)
    for col in ("start_date", "end_date", "implementation_end"):
        d = iv[col].dropna()
        assert d.str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    for cats in iv["target_categories"]:
        assert set(json.loads(cats)) <= set(model.CATEGORIES)
    assert set(tg["target_type"]) == {"place", "grid", "cell"}
    assert set(tg["intervention_id"]) == set(iv["intervention_id"])
    json.dumps(scenario.stories, ensure_ascii=False)
    for key in STORY_KEYS:
        s = scenario.stories[key]
        assert {"categories", "planted_effect", "expected_verdict", "description_zh", "description_en"} <= set(s)
        assert set(s["interventions"]) <= set(iv["intervention_id"])


def test_times_ordered(scenario):
    t = scenario.tickets
    assert (t["received_at"] <= t["dispatched_at"]).all()
    assert (t["dispatched_at"] <= t["responded_at"]).all()
    lag = t["responded_at"] - t["received_at"]
    assert (lag <= pd.Timedelta(days=3)).all()
    assert 0.02 < (lag > pd.Timedelta(days=1)).mean() < 0.06  # a few answered late (weekend backlog)
    closed = t["closed_at"].notna()
    assert (t.loc[closed, "responded_at"] <= t.loc[closed, "closed_at"]).all()
    fu = t["followed_up_at"].notna()
    assert (t.loc[fu, "closed_at"] <= t.loc[fu, "followed_up_at"]).all()
    assert (t["due_at"] > t["received_at"]).all()
    assert set(((t["due_at"] - t["received_at"]).dt.days).unique()) <= {3, 7, 15}
    assert ((t["status"] == "open") == t["closed_at"].isna()).all()
    assert 0 < (t["status"] == "open").sum() < 0.05 * len(t)
    on_time = (t.loc[closed, "closed_at"] <= t.loc[closed, "due_at"]).mean()
    assert 0.85 < on_time < 0.95
    end = pd.Timestamp("2026-11-01", tz=model.TIMEZONE)
    assert (t["received_at"] >= pd.Timestamp("2024-11-01", tz=model.TIMEZONE)).all()
    assert (t[list(model.TICKET_TIME_COLUMNS[:1])].max() < end).all()
    assert t["received_at"].is_monotonic_increasing


def test_repeat_of_points_to_an_earlier_ticket(scenario):
    t, truth = scenario.tickets, scenario.truth
    rep = t["repeat_of"].notna()
    assert 0.06 < rep.mean() < 0.10
    parent = t.set_index("source_id").loc[t.loc[rep, "repeat_of"]]
    child = t[rep]
    gap = child["received_at"].reset_index(drop=True) - parent["received_at"].reset_index(drop=True)
    assert (gap > pd.Timedelta(0)).all() and (gap <= pd.Timedelta(hours=72)).all()
    assert (child["category"].to_numpy() == parent["category"].to_numpy()).all()
    same_place = truth.set_index("source_id").loc[t.loc[rep, "repeat_of"], "place_id"].to_numpy()
    assert (pd.isna(same_place) == truth.loc[rep, "place_id"].isna().to_numpy()).all()
    located = child["lon"].notna().to_numpy() & parent["lon"].notna().to_numpy()
    assert np.allclose(child["lon"].to_numpy()[located], parent["lon"].to_numpy()[located])


def test_write_truth(scenario, tmp_path):
    js, pq = write_truth(scenario, tmp_path / "truth.json")
    doc = json.loads(js.read_text(encoding="utf-8"))
    assert set(doc["stories"]) == set(STORY_KEYS)
    assert len(doc["interventions"]) == len(scenario.interventions)
    assert "安图" in js.read_text(encoding="utf-8") or "a_hospital_entrance" in doc["stories"]
    back = pd.read_parquet(pq)
    assert len(back) == len(scenario.truth)
    assert list(back.columns) == list(scenario.truth.columns)


def test_bad_inputs_are_named():
    units, places = fake_layers()
    with pytest.raises(Exception, match="places is missing"):
        generate_demo(units, places.drop(columns="kind"), n_target=N)
    with pytest.raises(ValueError, match="at least 10000"):
        generate_demo(units, places, n_target=100)


# --------------------------------------------------------------------------
# Fingerprint: the demo the seed gives, pinned
# --------------------------------------------------------------------------


def fingerprint(scenario: DemoScenario) -> dict:
    """Counts per story and per top-level category, and a hash of every frame and the stories."""
    t, truth = scenario.tickets, scenario.truth
    digest = hashlib.sha256()
    for frame in (t, truth, scenario.interventions, scenario.intervention_targets):
        digest.update(frame.to_csv(index=False, float_format="%.6f").encode("utf-8"))
    digest.update(json.dumps(scenario.stories, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return {
        "tickets": len(t),
        "stories": truth["story"].fillna("background").value_counts().sort_index().to_dict(),
        "categories": t["category"].str[:2].value_counts().sort_index().to_dict(),
        "interventions": len(scenario.interventions),
        "sha256": digest.hexdigest()[:16],
    }


PINNED = {  # generate_demo(layers, n_target=N) with the default seed
    "real": {
        "tickets": 19996,
        "stories": {"a_hospital_entrance": 343, "b_bike_shed": 222, "background": 15913, "c_truck_parking": 516,
                    "d_streetlights": 345, "e_elevator_relapse": 120, "f_regression_to_mean": 140, "g_qr_code": 2260,
                    "h_fumes_shop_row": 137},
        "categories": {"01": 3517, "02": 4369, "03": 2025, "04": 4597, "05": 1766, "06": 874, "07": 665, "08": 1158,
                       "99": 1025},
        "interventions": 9,
        "sha256": "3fbe1d1953badbed",
    },
    "fake": {
        "tickets": 19998,
        "stories": {"a_hospital_entrance": 340, "b_bike_shed": 224, "background": 13816, "c_truck_parking": 517,
                    "d_streetlights": 345, "e_elevator_relapse": 122, "f_regression_to_mean": 140, "g_qr_code": 4358,
                    "h_fumes_shop_row": 136},
        "categories": {"01": 3807, "02": 4557, "03": 2624, "04": 4129, "05": 1961, "06": 539, "07": 531, "08": 1021,
                       "99": 829},
        "interventions": 9,
        "sha256": "8d84716c2aeddb12",
    },
}


def test_fingerprint_is_pinned(request, scenario):
    """The same seed gives the same demo: a refactor of the generator must keep every random draw in order.

    When the demo is meant to change (new story, new rates, new layers), print
    ``fingerprint(scenario)`` for both layer sets and update PINNED.
    """
    which = request.node.callspec.params["layers"]
    assert fingerprint(scenario) == PINNED[which]
