"""Minqing Map (民情地图): place-based governance of 12345 hotline work orders."""

__version__ = "0.1.0"


from minqing.kernels import configure as _configure_kernels  # noqa: E402 - before anything imports numba

_configure_kernels()
