-- The largest id of each table whose rows `epbctl delete`/`prune` removed, so that a new row
-- never takes the id of a deleted one (SQLite reuses the largest id + 1 otherwise, and a
-- script holding "snapshot 7" would silently get another placement).
CREATE TABLE retired_id (
  table_name TEXT NOT NULL PRIMARY KEY,
  max_id INTEGER NOT NULL
) WITHOUT ROWID;
