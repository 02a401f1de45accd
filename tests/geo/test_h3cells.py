"""H3 helpers: cell polygons and the unit that holds each cell's centre."""

from __future__ import annotations

import h3
import numpy as np

from minqing.geo.h3cells import cells_to_polygons, cells_to_units

X0, Y0 = 121.50, 31.28


def _cell(lon, lat, res=9):
    return np.int64(np.uint64(h3.str_to_int(h3.latlng_to_cell(lat, lon, res))))


def test_cells_to_units_by_the_cell_centre(tiny_units):
    grids = tiny_units[(tiny_units["level"] == "grid") & tiny_units["valid_to"].isna()].reset_index(drop=True)
    # G1 is the square (0,0), G3 the square (1,0), G4A the left half of square (1,1)
    cells = np.array([_cell(X0 + 0.005, Y0 + 0.005), _cell(X0 + 0.015, Y0 + 0.005), _cell(X0 + 0.012, Y0 + 0.015),
                      _cell(X0 + 0.5, Y0 + 0.5)], dtype="int64")
    centres = [h3.cell_to_latlng(h3.int_to_str(int(c))) for c in cells.view("uint64")]
    assert X0 < centres[0][1] < X0 + 0.01 and Y0 < centres[0][0] < Y0 + 0.01  # the centre is in G1 as well
    assert cells_to_units(cells, grids).tolist() == ["G1", "G3", "G4A", None]  # the last one is far outside
    assert cells_to_units(cells[:1], grids, "name").tolist() == ["单元G1"]
    assert cells_to_units(np.array([], dtype="int64"), grids).tolist() == []


def test_cells_to_polygons_are_the_hexagons():
    c = _cell(X0, Y0)
    (poly,) = cells_to_polygons([c])
    assert len(poly.exterior.coords) == 7  # six corners, closed
    assert poly.contains(poly.centroid) and abs(poly.centroid.x - X0) < 0.003 and abs(poly.centroid.y - Y0) < 0.003
