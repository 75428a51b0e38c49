-- A hash of each step's loads, to tell that newly ingested steps repeat stored content (the
-- same loads recorded again in another format, or appended twice): 64-bit, the XOR over the
-- step's (layer, loads) rows of a per-row hash (EPBStore.rowHash), so rows of one step stored
-- by several ingests combine. NULL for steps stored before this migration (not compared).
ALTER TABLE step ADD COLUMN loads_hash INTEGER;
CREATE INDEX step_loads_hash ON step(series_id, loads_hash) WHERE loads_hash IS NOT NULL;
