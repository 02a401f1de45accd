"""The effects and interventions pages render on the demo store without errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest


@pytest.mark.parametrize("view", ["effects", "interventions"])
def test_page_renders(view, demo_store_url, monkeypatch):
    monkeypatch.setenv("MINQING_DATABASE_URL", demo_store_url)
    from minqing.auth import User

    at = AppTest.from_file(str(Path(__file__).resolve().parents[2] / "views" / f"{view}.py"), default_timeout=60)
    at.session_state["user"] = User("planner", name="t_planner")  # a page run on its own: the user app.py sets
    at.run()
    assert not at.exception, at.exception
    assert at.title
