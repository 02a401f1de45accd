"""Linking checked against the demo's ground truth, through the real build (generate -> link -> store)."""

import json
from pathlib import Path

import pandas as pd
import pytest

from minqing.config import sqlite_path
from minqing.store import TicketFilter, open_store


@pytest.fixture(scope="module")
def built(demo_store_url):
    store = open_store(demo_store_url)
    truth_json = Path(store.get_meta("demo_truth"))
    assert truth_json == sqlite_path(demo_store_url).with_name("demo_truth.json")
    truth = pd.read_parquet(truth_json.with_suffix(".parquet"))
    doc = json.loads(truth_json.read_text(encoding="utf-8"))
    tickets = store.read_tickets(TicketFilter(columns=("source_id", "received_at", "grid_code", "grid_uid", "location_source")))
    links = store.read_ticket_places()
    units = store.read_units("grid")
    yield store, truth, doc, tickets, links, units
    store.close()


def test_every_located_ticket_lands_in_its_generated_grid(built):
    _, truth, _, tickets, _, _ = built
    merged = tickets.merge(truth, on="source_id", suffixes=("", "_truth"), validate="one_to_one")
    assert len(merged) == len(tickets) == len(truth)
    located = merged["location_source"] == "coordinates"
    assert located.mean() > 0.85
    assert (merged.loc[located, "grid_code"] == merged.loc[located, "grid_code_truth"]).all()
    assert merged.loc[~located, "grid_code"].isna().all()


def test_tickets_link_to_the_grid_version_valid_at_their_time(built):
    _, truth, _, tickets, _, units = built
    old = units[units["valid_to"].notna()].iloc[0]
    got = tickets.merge(units[["unit_uid", "code", "valid_from", "valid_to"]], left_on="grid_uid", right_on="unit_uid")
    day = got["received_at"].dt.strftime("%Y-%m-%d")
    assert (got["valid_from"] <= day).all()
    assert (got["valid_to"].isna() | (day < got["valid_to"])).all()
    in_old = got[got["code"] == old["code"]]
    assert len(in_old) > 0 and (in_old["received_at"] < pd.Timestamp(old["valid_to"], tz="Asia/Shanghai")).all()
    successors = units[units["valid_from"] == old["valid_to"]]["code"]
    assert got["code"].isin(successors).sum() > 0
    assert len(successors) == 2


def test_every_planted_story_ticket_lands_in_its_place(built):
    _, truth, doc, tickets, links, _ = built
    story = truth[truth["place_id"].notna() & truth["story"].notna()]
    assert set(story["story"]) >= {"a_hospital_entrance", "b_bike_shed", "c_truck_parking", "d_streetlights"}
    located = story.merge(tickets[["source_id", "location_source"]], on="source_id")
    located = located[located["location_source"] == "coordinates"]
    pairs = set(zip(links["source_id"], links["place_id"]))
    missing = [(s, p) for s, p in zip(located["source_id"], located["place_id"]) if (s, p) not in pairs]
    assert not missing, missing[:5]
    assert doc["stories"]["a_hospital_entrance"]
