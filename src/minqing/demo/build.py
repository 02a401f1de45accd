"""Build the demo store: the demo city's layers, the seeded scenario, linked and stored."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from minqing.config import geodata_dir
from minqing.geo.layers import read_places, read_units
from minqing.geo.link import apply_links, link_tickets
from minqing.store.base import Store

DEMO_SEED = 20250401
DEMO_TICKETS = 200_000


@dataclass
class BuildReport:
    """Counts and stage timings of one demo build."""

    units: int = 0
    places: int = 0
    tickets: int = 0
    located: int = 0
    place_links: int = 0
    interventions: int = 0
    seconds: dict[str, float] = field(default_factory=dict)


def build_demo(
    store: Store,
    *,
    seed: int = DEMO_SEED,
    n_tickets: int = DEMO_TICKETS,
    layers: Path | str | None = None,
    truth_path: Path | str | None = None,
    progress=None,
) -> BuildReport:
    """Load the demo city into ``store`` and fill it with the seeded scenario.

    Parameters
    ----------
    store : Store
        An open store; existing rows with the same keys are replaced.
    seed, n_tickets : int
        The scenario's seed and size.
    layers : path, optional
        Folder of the city's layers; defaults to the repository's ``geodata/``.
    truth_path : path, optional
        Where the ground truth JSON goes (its per-ticket table is written beside
        it as Parquet). Defaults to ``demo_truth.json`` beside an SQLite store.
    progress : callable, optional
        Called with (stage name, fraction done).
    """
    from minqing.demo.scenario import generate_demo, write_truth

    report = BuildReport()
    step = progress or (lambda stage, frac: None)
    folder = Path(layers) if layers else geodata_dir()

    t = time.perf_counter()
    step("layers", 0.0)
    report.units = store.write_units(read_units(folder))
    places = read_places(folder)
    report.places = store.write_places(places)
    units = store.read_units()
    report.seconds["layers"] = time.perf_counter() - t

    t = time.perf_counter()
    step("generate", 0.1)
    scenario = generate_demo(units, places, seed=seed, n_target=n_tickets)
    report.seconds["generate"] = time.perf_counter() - t

    t = time.perf_counter()
    step("link", 0.5)
    result = link_tickets(scenario.tickets, units, places)
    tickets, place_links = apply_links(scenario.tickets, result)
    report.seconds["link"] = time.perf_counter() - t

    t = time.perf_counter()
    step("write", 0.7)
    report.tickets = store.write_tickets(tickets, place_links)
    report.interventions = store.write_interventions(scenario.interventions, scenario.intervention_targets)
    store.set_meta("demo_seed", str(seed))
    report.seconds["write"] = time.perf_counter() - t
    report.located = int(tickets["grid_code"].notna().sum())
    report.place_links = len(place_links)

    if truth_path is None and hasattr(store, "path"):
        truth_path = Path(store.path).with_name(Path(store.path).stem + "_truth.json")
    if truth_path is not None:
        write_truth(scenario, Path(truth_path))
        store.set_meta("demo_truth", str(truth_path))
    step("done", 1.0)
    return report
