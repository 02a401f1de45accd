"""Every planted story of the demo scenario gets the right verdict."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from minqing.analysis.effect_results import EffectError
from minqing.interventions.evaluate import evaluate_intervention
from minqing.store import open_store


@pytest.fixture(scope="module")
def demo(demo_store_url):
    with open_store(demo_store_url) as store:
        truth = json.loads(Path(store.get_meta("demo_truth")).read_text(encoding="utf-8"))
        stories = truth["stories"] if "stories" in truth else truth
        results = {}
        for key, story in stories.items():
            for iid in story.get("interventions", []):
                try:
                    results[iid] = evaluate_intervention(store, iid)
                except EffectError as exc:
                    results[iid] = exc
        yield stories, results


def _last(stories, results, key):
    return results[stories[key]["interventions"][-1]]


@pytest.mark.parametrize("key", ["a_hospital_entrance", "b_bike_shed", "d_streetlights", "h_fumes_shop_row",
                                 "e_elevator_relapse"])
def test_improved_stories(demo, key):
    stories, results = demo
    ev = _last(stories, results, key)
    assert stories[key]["expected_verdict"] == "improved"
    horizons = {h.months: h.ratio.verdict for h in ev.result.horizons}
    assert ev.result.verdict == "improved" or horizons.get(3) == "improved", ev.result.primary


def test_regression_to_the_mean_not_improved(demo):
    stories, results = demo
    ev = _last(stories, results, "f_regression_to_mean")
    assert ev.result.verdict != "improved"
    assert ev.result.regression.peak
    assert ev.result.regression.naive.estimate < 1  # the naive before/after would have said improved


def test_relapse_flagged_near_planted_date(demo):
    stories, results = demo
    ev = _last(stories, results, "e_elevator_relapse")
    assert ev.result.relapse is not None and ev.result.relapse.flagged
    assert pd.Timestamp("2026-03-01") <= ev.result.relapse.date <= pd.Timestamp("2026-06-30")
    for key in ("a_hospital_entrance", "b_bike_shed", "d_streetlights", "h_fumes_shop_row"):
        r = _last(stories, results, key).result
        assert r.relapse is None or not r.relapse.flagged, key


def test_streetlights_judged_against_the_same_months_a_year_earlier(demo):
    """Bursty, winter-heavy counts: the seasonal comparison decides, and the interval excludes no change."""
    stories, results = demo
    r = _last(stories, results, "d_streetlights").result
    assert r.seasonal is not None and r.seasonal.high < 1
    assert r.verdict == "improved"


def test_qr_code_channel_is_no_change_in_problems(demo):
    stories, results = demo
    ev = _last(stories, results, "g_qr_code")
    assert "qr_code" in ev.excluded_channels
    assert ev.result.verdict == "no_clear_change"
    assert ev.control_type == "grid" and len(ev.controls) >= 5


def test_bike_shed_channel_mix_shows_proactive_rise(demo):
    stories, results = demo
    rows = {c.channel: c for c in _last(stories, results, "b_bike_shed").result.channels}
    assert rows["proactive"].after_rate > rows["proactive"].before_rate
    assert rows["hotline_12345"].after_rate < rows["hotline_12345"].before_rate


def test_hospital_satisfaction_improves(demo):
    stories, results = demo
    sat = _last(stories, results, "a_hospital_entrance").result.satisfaction
    assert sat.after < sat.before


def test_controls_are_listed_and_outside_the_ring(demo):
    stories, results = demo
    ev = _last(stories, results, "a_hospital_entrance")
    assert ev.control_type == "place" and 1 <= len(ev.controls) <= 5
    assert stories["a_hospital_entrance"]["places"][0]["place_id"] not in set(ev.controls["unit_id"])


def test_evaluate_all_from_one_read_matches_one_by_one(demo, demo_store_url):
    from minqing.interventions.evaluate import evaluate_all

    _, results = demo
    with open_store(demo_store_url) as store:
        every = evaluate_all(store)
    assert set(results) <= set(every)
    for iid, single in results.items():
        shared = every[iid]
        if isinstance(single, Exception):
            assert type(shared) is type(single)
            continue
        a, b = single.result, shared.result
        assert (a.verdict, a.primary.estimate, a.primary.low, a.primary.high) == \
            (b.verdict, b.primary.estimate, b.primary.low, b.primary.high), iid
        pd.testing.assert_frame_equal(single.controls, shared.controls)
        assert len(single.points) == len(shared.points)


def test_cli_evaluates_all_in_one_table(demo, demo_store_url, capsys):
    from minqing.cli.main import main

    _, results = demo
    assert main(["--db", demo_store_url, "intervention", "evaluate", "--all", "--lang", "en"]) == 0
    lines = [ln.split("\t") for ln in capsys.readouterr().out.strip().splitlines()]
    by_id = {int(ln[0]): ln for ln in lines}
    for iid, single in results.items():
        if isinstance(single, Exception):
            assert by_id[iid][1] == "-"
        else:
            assert by_id[iid][1] == single.result.verdict
            assert by_id[iid][2].startswith(f"{single.result.primary.estimate:.2f} [")


def test_hospital_first_fix_gets_its_own_verdict(demo):
    """The story the users tell: the first fix left people unsatisfied, the joint meeting's worked."""
    stories, results = demo
    first_id, meeting_id = stories["a_hospital_entrance"]["interventions"][:2]
    first, meeting = results[first_id], results[meeting_id]
    assert not isinstance(first, EffectError), first  # judged (in weeks), no longer "cannot be evaluated"
    r = first.result
    assert r.scale in ("week", "day")
    # its after window ends where the joint meeting begins: that fall is the meeting's
    assert r.after.end == pd.Timestamp(meeting.intervention.start_date)
    assert r.verdict != "improved"
    assert r.satisfaction.after > r.satisfaction.before  # unsatisfied share rose after the first fix
    assert any(c.key == "effects.caveat_other_interventions" and meeting.intervention.name in c.params["names"]
               for c in meeting.result.caveats + r.caveats)
    assert meeting.result.verdict == "improved"


def test_a_cell_target_evaluates_with_unlocated_tickets(demo_store_url, tmp_path):
    """The store gives an unlocated ticket's h3_cell as <NA> (the storage contract); evaluations take it."""
    import sqlite3

    import h3

    from minqing.config import sqlite_path
    from minqing.interventions.evaluate import load_effect_data
    from minqing.interventions.registry import Intervention, add_intervention

    copy = tmp_path / "demo_copy.sqlite"
    with sqlite3.connect(sqlite_path(demo_store_url)) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    with open_store(f"sqlite:///{copy}") as store:
        cells = load_effect_data(store).tickets["h3_cell"]
        assert str(cells.dtype) == "Int64" and cells.isna().any()
        busiest = h3.api.basic_int.cell_to_parent(int(cells.dropna().value_counts().index[0]), 8)
        iid = add_intervention(store, Intervention(name="网格整治", type="joint_meeting", start_date="2025-10-01",
                                                   targets=(("cell", h3.int_to_str(busiest)),)))
        ev = evaluate_intervention(store, iid)
    assert ev.result.verdict and ev.result.after.end > ev.result.before.start
