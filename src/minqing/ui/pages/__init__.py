"""One module per page; each only wires components together."""
