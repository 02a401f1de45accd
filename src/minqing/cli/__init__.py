"""Command line: ``minqing`` (main.py) and one module per command group."""
