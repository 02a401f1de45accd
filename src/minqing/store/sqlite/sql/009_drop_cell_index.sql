-- Minqing Map schema, version 9 (SQLite and PostgreSQL): no index of tickets by H3 cell.
-- No query selects or groups tickets by h3_cell (the hexagon layers count cells of the tickets read), so the
-- index only cost every import a sort of all tickets (0.8-1.0 s of a 1,000,000-row import) and 20 MB of store.
DROP INDEX IF EXISTS tickets_cell;
