"""Folium maps: class breaks and legends, choropleths, hot spots, tickets, effects, data layers, basemaps, offline."""
