-- Minqing Map schema, version 4 (SQLite): user accounts for sign-in, and the audit log.
-- Times are UTC epoch seconds. Neither table holds ticket data, so writes here leave data_version alone.

-- One row per account. Scope lists are JSON arrays of unit codes; the password only as an argon2id hash.
CREATE TABLE users (
    name                TEXT PRIMARY KEY,
    role                TEXT NOT NULL,               -- admin, planner, grid_leader, meeting
    grid_codes          TEXT NOT NULL DEFAULT '[]',  -- JSON array (grid leaders)
    community_codes     TEXT NOT NULL DEFAULT '[]',  -- JSON array (grid leaders)
    password_hash       TEXT NOT NULL,               -- $argon2id$...
    disabled            INTEGER NOT NULL DEFAULT 0,
    failed_count        INTEGER NOT NULL DEFAULT 0,  -- failed sign-ins since the last success
    locked_until        INTEGER,                     -- no sign-in before this time
    password_changed_at INTEGER,
    created_at          INTEGER NOT NULL,
    last_sign_in_at     INTEGER
);

-- Who did what, when: sign-ins, imports, intervention edits, user changes, exports.
-- Never callers' personal data (see minqing.accounts.audit).
CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     INTEGER NOT NULL,
    actor  TEXT,               -- the user name (as typed, for failed sign-ins)
    action TEXT NOT NULL,      -- sign_in, sign_in_failed, user_add, export, ...
    target TEXT,               -- what it was done to: a user, a file, an intervention id
    rows   INTEGER,            -- how many rows (imports, exports)
    masked INTEGER,            -- 1 when an export masked personal data, 0 when not
    detail TEXT                -- JSON object with more about it
);
CREATE INDEX audit_log_at ON audit_log (at);
