"""The PostgreSQL + PostGIS store: schema migrations and database roles (the store itself comes later)."""
