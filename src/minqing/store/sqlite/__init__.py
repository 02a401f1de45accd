"""The embedded SQLite store: the store, its import staging and its migrations (sql/)."""
