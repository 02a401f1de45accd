-- Minqing Map schema, version 3 (PostgreSQL + PostGIS); mirrors store/sqlite/sql/003_interventions.sql.
-- Interventions: read the tickets of a few categories over a time range without a full scan.
CREATE INDEX IF NOT EXISTS tickets_category_received ON tickets (category, received_at);
