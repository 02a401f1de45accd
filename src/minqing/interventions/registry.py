"""The intervention registry (治理措施): create, edit and close interventions, with an edit history.

Every change goes through :func:`add_intervention`, :func:`edit_intervention`
or :func:`close_intervention`; each writes the intervention, its targets and
one history row (who, when, JSON of the fields before and after) in one
transaction of the store.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import pandas as pd

from minqing.errors import MinqingError
from minqing.model import CATEGORIES, INTERVENTION_COLUMNS, INTERVENTION_TYPES
from minqing.store.base import Store

__all__ = [
    "Intervention",
    "InterventionError",
    "TARGET_TYPES",
    "add_intervention",
    "edit_intervention",
    "close_intervention",
    "get_intervention",
    "list_interventions",
    "intervention_history",
]

TARGET_TYPES = ("place", "cell", "grid")
EDITABLE = ("name", "type", "start_date", "end_date", "implementation_end", "units_involved", "description",
            "target_categories", "targets")


class InterventionError(MinqingError, ValueError):
    """An intervention record is invalid or unknown."""

    key = "interventions.error_invalid"


@dataclass(frozen=True)
class Intervention:
    """One intervention: what was done, where, when, by whom.

    Attributes
    ----------
    intervention_id : int or None
        None until stored.
    name, type : str
        ``type`` is a code of :data:`minqing.model.INTERVENTION_TYPES`.
    start_date : str
        "YYYY-MM-DD", first day.
    end_date, implementation_end : str or None
        Last day (None while ongoing) and last day of the implementation period.
    units_involved, description : str
    target_categories : tuple of str
        Category codes the intervention is meant to reduce (empty: all).
    targets : tuple of (target_type, target_id)
        Places, H3 cells and grids; any mix.
    """

    name: str
    type: str
    start_date: str
    end_date: str | None = None
    implementation_end: str | None = None
    units_involved: str = ""
    description: str = ""
    target_categories: tuple = ()
    targets: tuple = ()
    intervention_id: int | None = None

    def record(self) -> dict:
        """Return the fields as plain JSON-ready values."""
        d = asdict(self)
        d["target_categories"] = list(self.target_categories)
        d["targets"] = [list(t) for t in self.targets]
        return d


def _day(value, what: str) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "":
        return None
    try:
        return str(pd.Timestamp(value).date())
    except (ValueError, TypeError):
        raise InterventionError(
            f"{what} {value!r} is not a date; write it as YYYY-MM-DD, e.g. 2025-04-20",
            key="interventions.error_date", field=what, value=str(value)) from None


def validate(iv: Intervention) -> Intervention:
    """Return ``iv`` with normalised dates, or raise :class:`InterventionError` naming the bad value."""
    if not str(iv.name).strip():
        raise InterventionError("the intervention needs a name", key="interventions.error_name")
    if iv.type not in INTERVENTION_TYPES:
        raise InterventionError(
            f"unknown intervention type {iv.type!r}; allowed: {', '.join(INTERVENTION_TYPES)}",
            key="interventions.error_type", value=str(iv.type), allowed=", ".join(INTERVENTION_TYPES))
    start = _day(iv.start_date, "start_date")
    if start is None:
        raise InterventionError("the intervention needs a start date (YYYY-MM-DD)", key="interventions.error_date",
                                field="start_date", value="")
    end, impl = _day(iv.end_date, "end_date"), _day(iv.implementation_end, "implementation_end")
    if end is not None and end < start:
        raise InterventionError(f"end_date {end} is before start_date {start}; give an end on or after the start",
                                key="interventions.error_order", field="end_date", value=end, start=start)
    if impl is not None and impl < start:
        raise InterventionError(
            f"implementation_end {impl} is before start_date {start}; give an implementation end on or after the start",
            key="interventions.error_order", field="implementation_end", value=impl, start=start)
    bad = [c for c in iv.target_categories if c not in CATEGORIES]
    if bad:
        raise InterventionError(f"unknown category code(s) {bad}; use codes of the category tree such as 04.01.01",
                                key="interventions.error_category", value=", ".join(map(str, bad)))
    targets = tuple((str(a), str(b).strip()) for a, b in iv.targets)
    bad_t = [a for a, _ in targets if a not in TARGET_TYPES]
    if bad_t:
        raise InterventionError(f"unknown target type(s) {bad_t}; allowed: {', '.join(TARGET_TYPES)}",
                                key="interventions.error_target_type", value=", ".join(bad_t),
                                allowed=", ".join(TARGET_TYPES))
    if not targets or any(not b for _, b in targets):
        raise InterventionError("the intervention needs at least one target (a place, an H3 cell or a grid)",
                                key="interventions.error_no_target")
    return Intervention(str(iv.name).strip(), iv.type, start, end, impl, iv.units_involved or "",
                        iv.description or "", tuple(dict.fromkeys(iv.target_categories)), tuple(dict.fromkeys(targets)),
                        iv.intervention_id)


def _save(store: Store, iv: Intervention, before: dict | None, by: str | None, action: str) -> int:
    row = {c: getattr(iv, c) for c in INTERVENTION_COLUMNS if c != "target_categories"}
    row["target_categories"] = json.dumps(list(iv.target_categories), ensure_ascii=False)
    targets = pd.DataFrame(list(iv.targets), columns=["target_type", "target_id"])
    after = iv.record()
    after.pop("intervention_id", None)
    change = json.dumps({"action": action, "before": before, "after": after}, ensure_ascii=False)
    iid = store.save_intervention(row, targets, by, change)
    from minqing.audit import audit

    audit(store, by or "cli", f"intervention_{action}", target=str(iid), detail={"name": iv.name, "type": iv.type})
    return iid


def add_intervention(store: Store, iv: Intervention, *, by: str | None = None) -> int:
    """Store a new intervention and return its id.

    Parameters
    ----------
    store : Store
    iv : Intervention
        Its ``intervention_id`` is ignored.
    by : str, optional
        Who made the change (kept in the history).
    """
    iv = validate(iv)
    return _save(store, Intervention(**{**iv.__dict__, "intervention_id": None}), None, by, "create")


def get_intervention(store: Store, intervention_id: int) -> Intervention:
    """Return one stored intervention, or raise :class:`InterventionError` when unknown."""
    ivs, targets = store.read_interventions()
    row = ivs[ivs["intervention_id"] == int(intervention_id)]
    if row.empty:
        known = ", ".join(map(str, ivs["intervention_id"].tolist()[:20]))
        raise InterventionError(f"no intervention {intervention_id}; known ids: {known or 'none'}",
                                key="interventions.error_unknown", value=str(intervention_id))
    return _from_row(row.iloc[0], targets[targets["intervention_id"] == int(intervention_id)])


def _from_row(r, tg: pd.DataFrame) -> Intervention:
    def opt(v):
        return None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)

    cats = opt(r["target_categories"])
    try:
        cats_t = tuple(json.loads(cats)) if cats else ()
    except json.JSONDecodeError:
        cats_t = tuple(c.strip() for c in cats.split(",") if c.strip())
    return Intervention(
        name=str(r["name"]), type=str(r["type"]), start_date=str(r["start_date"]), end_date=opt(r["end_date"]),
        implementation_end=opt(r["implementation_end"]), units_involved=opt(r["units_involved"]) or "",
        description=opt(r["description"]) or "", target_categories=cats_t,
        targets=tuple(zip(tg["target_type"].astype(str), tg["target_id"].astype(str))),
        intervention_id=int(r["intervention_id"]))


def edit_intervention(store: Store, intervention_id: int, *, by: str | None = None, **changes) -> Intervention:
    """Change fields of a stored intervention; return it as stored.

    Parameters
    ----------
    changes
        Any of ``name, type, start_date, end_date, implementation_end,
        units_involved, description, target_categories, targets``.
    """
    bad = sorted(set(changes) - set(EDITABLE))
    if bad:
        raise InterventionError(f"cannot edit field(s) {bad}; editable: {', '.join(EDITABLE)}",
                                key="interventions.error_field", value=", ".join(bad), allowed=", ".join(EDITABLE))
    old = get_intervention(store, intervention_id)
    new = validate(Intervention(**{**old.__dict__, **changes}))
    before = {k: v for k, v in old.record().items() if k in changes}
    _save(store, new, before, by, "edit")
    return get_intervention(store, intervention_id)


def close_intervention(store: Store, intervention_id: int, end_date, *, by: str | None = None) -> Intervention:
    """Set the end date of an ongoing intervention; return it as stored."""
    old = get_intervention(store, intervention_id)
    new = validate(Intervention(**{**old.__dict__, "end_date": end_date}))
    _save(store, new, {"end_date": old.end_date}, by, "close")
    return get_intervention(store, intervention_id)


def list_interventions(store: Store) -> pd.DataFrame:
    """Return all interventions, one row each, with ``n_targets`` and a ``status`` of "ongoing" or "closed"."""
    ivs, targets = store.read_interventions()
    n = targets.groupby("intervention_id").size()
    out = ivs.copy()
    out["n_targets"] = out["intervention_id"].map(n).fillna(0).astype("int64")
    out["status"] = out["end_date"].map(lambda v: "ongoing" if v is None or pd.isna(v) else "closed")
    return out


def interventions_in_scope(store: Store, user) -> set[int]:
    """Return the ids of the interventions ``user`` may see: all, or those touching a scoped user's units.

    An intervention touches a grid leader's scope when one of its targets is a
    grid of the scope, or a place or H3 cell that intersects one of its grids.
    """
    import h3
    import shapely

    from minqing.auth import scope_grids

    ivs, targets = store.read_interventions()
    if not getattr(user, "scoped", False):
        return set(ivs["intervention_id"].astype(int))
    units = store.read_units()
    grids = set(scope_grids(user, units))
    polys = units.loc[(units["level"] == "grid") & units["code"].isin(grids), "geometry"]
    area = shapely.union_all(polys.to_numpy()) if len(polys) else shapely.Polygon()
    places = store.read_places().set_index("place_id")
    seen = set()
    for iid, kind, tid in targets[["intervention_id", "target_type", "target_id"]].itertuples(index=False):
        if kind == "grid":
            hit = tid in grids
        elif kind == "place":
            hit = tid in places.index and places.loc[tid, "geometry"].intersects(area)
        elif kind == "cell":
            try:
                cell = h3.int_to_str(int(tid)) if str(tid).isdigit() else str(tid)
                hit = shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(cell)]).intersects(area)
            except (ValueError, TypeError):
                hit = False
        else:
            hit = False
        if hit:
            seen.add(int(iid))
    return seen


def intervention_history(store: Store, intervention_id: int) -> pd.DataFrame:
    """Return the edit history of one intervention (changed_at, changed_by, action, before, after)."""
    h = store.read_intervention_history(int(intervention_id))
    parsed = [json.loads(c) for c in h["change"]]
    h["action"] = [p.get("action") for p in parsed]
    h["before"] = [p.get("before") for p in parsed]
    h["after"] = [p.get("after") for p in parsed]
    return h.drop(columns="change")
