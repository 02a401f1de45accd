"""The intervention registry: create, edit, close, with an edit history."""

from __future__ import annotations

import pytest

from minqing.cli.main import main
from minqing.interventions.registry import (Intervention, InterventionError, add_intervention, close_intervention,
                                   edit_intervention, get_intervention, intervention_history, list_interventions)
from minqing.store import open_store


@pytest.fixture
def store(tmp_path):
    with open_store(f"sqlite:///{tmp_path / 'r.sqlite'}") as s:
        yield s


def _iv(**kw):
    base = dict(name="医院门口联席会议", type="joint_meeting", start_date="2025-04-20", implementation_end="2025-06-20",
                target_categories=("02.01.01",), targets=(("place", "H1"), ("grid", "G1")))
    return Intervention(**{**base, **kw})


def test_create_edit_close_with_history(store):
    iid = add_intervention(store, _iv(), by="planner")
    iv = get_intervention(store, iid)
    assert set(iv.targets) == {("place", "H1"), ("grid", "G1")} and iv.end_date is None
    edit_intervention(store, iid, by="lead", name="新名称", targets=(("cell", "8a309a4a4b67fff"),))
    iv = close_intervention(store, iid, "2025-12-31", by="lead")
    assert iv.name == "新名称" and iv.end_date == "2025-12-31" and iv.targets == (("cell", "8a309a4a4b67fff"),)
    h = intervention_history(store, iid)
    assert h["action"].tolist() == ["create", "edit", "close"]
    assert h["changed_by"].tolist() == ["planner", "lead", "lead"]
    assert h["before"].iloc[1] == {"name": "医院门口联席会议", "targets": [["grid", "G1"], ["place", "H1"]]}
    assert list_interventions(store)["status"].tolist() == ["closed"]


@pytest.mark.parametrize("kw, match", [
    (dict(type="magic"), "unknown intervention type 'magic'"),
    (dict(start_date="someday"), "not a date"),
    (dict(end_date="2025-01-01"), "before start_date"),
    (dict(implementation_end="2025-01-01"), "before start_date"),
    (dict(target_categories=("77.77",)), "unknown category"),
    (dict(targets=()), "at least one target"),
    (dict(targets=(("street", "x"),)), "unknown target type"),
])
def test_invalid_records_are_refused(store, kw, match):
    with pytest.raises(InterventionError, match=match):
        add_intervention(store, _iv(**kw))
    assert list_interventions(store).empty


def test_cli_add_close_list(tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 'c.sqlite'}"
    assert main(["--db", db, "intervention", "add", "--name", "路灯整治", "--type", "facility_works",
                 "--start", "2026-03-01", "--categories", "03.01.01", "--place", "R1,R2", "--by", "me"]) == 0
    iid = int(capsys.readouterr().out.strip())
    assert main(["--db", db, "intervention", "close", str(iid), "--end", "2026-03-31"]) == 0
    assert main(["--db", db, "intervention", "list"]) == 0
    out = capsys.readouterr().out
    assert "路灯整治" in out and "closed" in out and "2026-03-31" in out
    assert main(["--db", db, "intervention", "close", str(iid), "--end", "2020-01-01"]) == 2
