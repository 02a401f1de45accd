"""The pages of the app and the permission that shows each one (no Streamlit here: a plain table)."""

from __future__ import annotations

from minqing.auth import User, can

# view (views/<view>.py), title key, icon, the permission that shows it (None: everyone signed in)
PAGES: tuple[tuple[str, str, str, str | None], ...] = (
    ("meeting", "nav.overview", ":material/groups:", "meeting"),
    ("map", "nav.map", ":material/map:", "map"),
    ("mygrid", "mygrid.nav", ":material/holiday_village:", "tickets"),
    ("hotspots", "hotspots.nav", ":material/local_fire_department:", "hotspots"),
    ("effects", "effects.nav", ":material/trending_down:", "effects"),
    ("interventions", "interventions.nav", ":material/construction:", "interventions_edit"),
    ("tickets", "tickets.nav", ":material/list_alt:", "tickets"),
    ("import", "ingest.nav", ":material/upload_file:", "import"),
    ("admin", "admin.nav", ":material/admin_panel_settings:", "users"),
    ("settings", "settings.nav", ":material/settings:", None),
)


def allowed_pages(user: User) -> list[tuple[str, str, str]]:
    """Return (view, title key, icon) of the pages ``user`` may open, in menu order."""
    return [(v, k, i) for v, k, i, perm in PAGES if perm is None or can(user, perm)]


def home_page(user: User) -> str:
    """Return the page ``user`` starts at: a grid leader's own grid, else the first allowed page."""
    views = [v for v, _, _ in allowed_pages(user)]
    return "mygrid" if "mygrid" in views and user.role == "grid_leader" else views[0]
