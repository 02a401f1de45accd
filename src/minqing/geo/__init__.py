"""Geometry: coordinate systems, layers, H3 cells and linking."""
