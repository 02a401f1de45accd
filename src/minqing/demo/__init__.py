"""The seeded demo city: its scenario, its stories and the builder that stores them."""
