-- Minqing Map schema, version 2 (SQLite): imports, quarantine, change history.

-- One row per import run: the file, who, when, the counts and the reasons (JSON).
CREATE TABLE import_reports (
    import_id   TEXT PRIMARY KEY,
    file_name   TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    format      TEXT,
    imported_by TEXT,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    rows_read   INTEGER NOT NULL,
    inserted    INTEGER NOT NULL,
    updated     INTEGER NOT NULL,
    unchanged   INTEGER NOT NULL,
    quarantined INTEGER NOT NULL,
    duplicates  INTEGER NOT NULL,
    report      TEXT NOT NULL      -- the whole report as JSON (reasons, examples, mapping, timings)
);
CREATE INDEX import_reports_started ON import_reports (started_at);

-- Rows that were not stored, with the original row and a reason a person can act on.
CREATE TABLE quarantine (
    quarantine_id INTEGER PRIMARY KEY,
    import_id     TEXT NOT NULL,
    file_name     TEXT,
    row_number    INTEGER,
    source_id     TEXT,
    reason        TEXT NOT NULL,   -- code, see minqing.ingest.errors.REASONS
    detail        TEXT,
    original      TEXT NOT NULL,   -- JSON object: header -> cell text, as read
    row_hash      INTEGER NOT NULL UNIQUE,
    quarantined_at INTEGER NOT NULL,
    resolved_by   TEXT              -- import_id that later stored this source id
);
CREATE INDEX quarantine_source ON quarantine (source_id);
CREATE INDEX quarantine_import ON quarantine (import_id);

-- Hash of the source row last stored for each ticket: re-importing the same rows is a no-op.
CREATE TABLE ticket_sources (
    source_id TEXT PRIMARY KEY,
    row_hash  INTEGER NOT NULL,
    import_id TEXT NOT NULL
) WITHOUT ROWID;

-- What a later export changed on a stored ticket.
CREATE TABLE ticket_changes (
    source_id  TEXT NOT NULL,
    import_id  TEXT NOT NULL,
    changed_at INTEGER NOT NULL,
    field      TEXT NOT NULL,
    old_value  TEXT,
    new_value  TEXT
);
CREATE INDEX ticket_changes_source ON ticket_changes (source_id);
