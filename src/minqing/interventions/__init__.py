"""Interventions: the registry (what was done where, when) and their evaluation from the store."""
