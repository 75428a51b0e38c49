-- The history of observed expert loads.
-- A series is one named stream from one deployment with a fixed shape (layers x experts).
CREATE TABLE series (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE CHECK (length(name) > 0),
  layers INTEGER NOT NULL CHECK (layers > 0),
  experts INTEGER NOT NULL CHECK (experts > 0),
  created_at TEXT NOT NULL
);

-- One row per ingested input (file or stdin batch): provenance and idempotency.
CREATE TABLE ingest (
  id INTEGER PRIMARY KEY,
  series_id INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
  source TEXT NOT NULL,           -- the path as given, or '-' for stdin
  content_sha256 TEXT NOT NULL,   -- hex SHA-256 of the input bytes
  format TEXT NOT NULL,           -- sglang | vllm | csv | npy | jsonl
  steps INTEGER NOT NULL CHECK (steps >= 0),
  rows INTEGER NOT NULL CHECK (rows >= 0),
  first_step INTEGER,
  last_step INTEGER,
  total_load REAL NOT NULL,
  ingested_at TEXT NOT NULL,
  UNIQUE (series_id, content_sha256)
);

-- Steps of a series with their optional wall-clock time (seconds since 1970-01-01 UTC).
CREATE TABLE step (
  series_id INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
  step INTEGER NOT NULL CHECK (step >= 0),
  time REAL,
  PRIMARY KEY (series_id, step)
) WITHOUT ROWID;

-- One row per (series, step, layer): the per-expert loads as a little-endian vector, in the
-- smallest exact encoding for the row:
-- encoding 1: int32 (4 bytes per expert), every value an integer < 2^31;
-- encoding 2: float64 (8 bytes per expert), exact for every other finite load;
-- encoding 3: uint8 (1 byte per expert), every value an integer < 256;
-- encoding 4: uint16 (2 bytes per expert), every value an integer < 65536.
CREATE TABLE load (
  series_id INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
  step INTEGER NOT NULL,
  layer INTEGER NOT NULL CHECK (layer >= 0),
  total REAL NOT NULL,              -- sum of the row's loads
  ingest_id INTEGER NOT NULL REFERENCES ingest(id),
  encoding INTEGER NOT NULL CHECK (encoding BETWEEN 1 AND 4),  -- not IN (...): SQLite builds a temporary index for an IN list on every insert
  loads BLOB NOT NULL,
  PRIMARY KEY (series_id, step, layer),
  FOREIGN KEY (series_id, step) REFERENCES step(series_id, step)
) WITHOUT ROWID;  -- clustered by (series, step, layer): a window is one range scan, no rowid lookups
