"""Folium maps: choropleths, hot spots, tickets, effects, their data layers, basemaps and offline assets."""
