"""The PostgreSQL + PostGIS store: the store (store.py and its mixins), rollups, scope (row-level security), migrations and roles."""
