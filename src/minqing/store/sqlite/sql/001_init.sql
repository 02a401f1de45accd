-- Minqing Map schema, version 1 (SQLite).
-- Times are UTC epoch seconds; geometries are WKB in EPSG:4326.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE vocab (
    vocab TEXT NOT NULL,          -- channel, kind, satisfaction, ...
    code  TEXT NOT NULL,
    zh    TEXT NOT NULL,
    en    TEXT NOT NULL,
    PRIMARY KEY (vocab, code)
);

CREATE TABLE categories (
    code   TEXT PRIMARY KEY,      -- "04", "04.01", "04.01.01"
    parent TEXT,
    level  INTEGER NOT NULL,
    zh     TEXT NOT NULL,
    en     TEXT NOT NULL
);

CREATE TABLE units (
    unit_uid    INTEGER PRIMARY KEY,
    code        TEXT NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('district', 'subdistrict', 'community', 'grid')),
    name        TEXT NOT NULL,
    name_en     TEXT,
    parent_code TEXT,
    population  INTEGER,
    valid_from  TEXT NOT NULL,    -- YYYY-MM-DD, inclusive
    valid_to    TEXT,             -- YYYY-MM-DD, exclusive; NULL while current
    caveat      TEXT,
    geometry    BLOB NOT NULL,
    UNIQUE (code, valid_from)
);
CREATE INDEX units_level ON units (level, code);

CREATE TABLE places (
    place_id         TEXT PRIMARY KEY,
    kind             TEXT NOT NULL CHECK (kind IN ('hospital_entrance', 'road_stretch', 'compound', 'other')),
    name             TEXT NOT NULL,
    name_en          TEXT,
    aliases          TEXT,        -- "|"-separated
    radius_m         REAL,
    buffer_m         REAL,
    subdistrict_code TEXT,
    source           TEXT,
    synthetic        INTEGER NOT NULL DEFAULT 0,
    geometry         BLOB NOT NULL
);

-- A rowid table: rows hold free text, too wide for WITHOUT ROWID to pay off.
CREATE TABLE tickets (
    ticket_id        INTEGER PRIMARY KEY,
    source_id        TEXT NOT NULL,
    received_at      INTEGER NOT NULL,
    channel          TEXT NOT NULL,
    kind             TEXT NOT NULL,
    category         TEXT NOT NULL,
    text             TEXT,
    address          TEXT,
    lon              REAL,
    lat              REAL,
    location_source  TEXT NOT NULL CHECK (location_source IN ('coordinates', 'address_match', 'none')),
    grid_uid         INTEGER REFERENCES units (unit_uid),
    grid_code        TEXT,
    community_code   TEXT,
    subdistrict_code TEXT,
    district_code    TEXT,
    h3_cell          INTEGER,
    handling_unit    TEXT,
    due_at           INTEGER,
    dispatched_at    INTEGER,
    responded_at     INTEGER,
    closed_at        INTEGER,
    followed_up_at   INTEGER,
    status           TEXT,
    resolved         TEXT CHECK (resolved IS NULL OR resolved IN ('solved', 'partly', 'not')),
    satisfaction     TEXT,
    caller_name      TEXT,
    caller_phone     TEXT,
    repeat_of        TEXT,
    extra            TEXT
);
CREATE UNIQUE INDEX tickets_source_id ON tickets (source_id);
CREATE INDEX tickets_received ON tickets (received_at);
CREATE INDEX tickets_subdistrict ON tickets (subdistrict_code, received_at);
CREATE INDEX tickets_grid ON tickets (grid_code, received_at);
CREATE INDEX tickets_cell ON tickets (h3_cell);

CREATE TABLE ticket_places (
    source_id TEXT NOT NULL REFERENCES tickets (source_id) ON DELETE CASCADE,
    place_id  TEXT NOT NULL REFERENCES places (place_id),
    PRIMARY KEY (source_id, place_id)
) WITHOUT ROWID;
CREATE INDEX ticket_places_place ON ticket_places (place_id);

CREATE TABLE interventions (
    intervention_id    INTEGER PRIMARY KEY,
    name               TEXT NOT NULL,
    type               TEXT NOT NULL,
    start_date         TEXT NOT NULL,
    end_date           TEXT,
    implementation_end TEXT,
    units_involved     TEXT,
    description        TEXT,
    target_categories  TEXT        -- JSON list of category codes
);

CREATE TABLE intervention_targets (
    intervention_id INTEGER NOT NULL REFERENCES interventions (intervention_id) ON DELETE CASCADE,
    target_type     TEXT NOT NULL CHECK (target_type IN ('place', 'cell', 'grid')),
    target_id       TEXT NOT NULL,
    PRIMARY KEY (intervention_id, target_type, target_id)
);

CREATE TABLE intervention_history (
    intervention_id INTEGER NOT NULL,
    changed_at      INTEGER NOT NULL,
    changed_by      TEXT,
    change          TEXT NOT NULL  -- JSON of the fields before and after
);
