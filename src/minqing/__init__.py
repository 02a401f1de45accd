"""Minqing Map (民情地图): place-based governance of 12345 hotline work orders."""

__version__ = "0.1.0"
