-- Stored placements (snapshots) with their provenance.
CREATE TABLE snapshot (
  id INTEGER PRIMARY KEY,
  series_id INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
  created_at TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  policy TEXT NOT NULL CHECK (policy IN ('hierarchical', 'global')),
  replicas INTEGER NOT NULL CHECK (replicas > 0),
  gpus INTEGER NOT NULL CHECK (gpus > 0),
  nodes INTEGER NOT NULL CHECK (nodes > 0),
  groups INTEGER NOT NULL CHECK (groups > 0),
  window_from INTEGER NOT NULL,
  window_to INTEGER NOT NULL,
  window_steps INTEGER NOT NULL,
  half_life REAL,
  base_snapshot_id INTEGER REFERENCES snapshot(id),
  tool_version TEXT NOT NULL,
  parameters TEXT NOT NULL        -- JSON object: the request that produced the snapshot
);
CREATE INDEX snapshot_series ON snapshot(series_id, id);

-- One row per planned layer. Vectors are JSON arrays so that sqlite3 and pandas can read them.
CREATE TABLE snapshot_layer (
  snapshot_id INTEGER NOT NULL REFERENCES snapshot(id) ON DELETE CASCADE,
  layer INTEGER NOT NULL CHECK (layer >= 0),
  phy2log TEXT NOT NULL,          -- [replicas] logical expert of each physical slot
  logcnt TEXT NOT NULL,           -- [experts] replicas of each logical expert
  gpu_load TEXT NOT NULL,         -- [gpus] load on the snapshot's own window
  peak REAL NOT NULL,
  mean REAL NOT NULL,
  no_replication_peak REAL NOT NULL,
  lower_bound REAL NOT NULL,
  PRIMARY KEY (snapshot_id, layer)
) WITHOUT ROWID;

-- Layers of the request whose window load was all zero, so not planned.
CREATE TABLE snapshot_skipped_layer (
  snapshot_id INTEGER NOT NULL REFERENCES snapshot(id) ON DELETE CASCADE,
  layer INTEGER NOT NULL,
  PRIMARY KEY (snapshot_id, layer)
) WITHOUT ROWID;
