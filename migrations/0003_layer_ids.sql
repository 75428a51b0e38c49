-- The model layer id of each stored layer of a series (issue 17): a MoE-only series of
-- DeepSeek-V3 holds layers 3 to 60, not 0 to 57. `load.layer`, `snapshot_layer.layer` and
-- `snapshot_skipped_layer.layer` hold these ids; a series has exactly `series.layers` of them.
CREATE TABLE series_layer (
  series_id INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
  layer INTEGER NOT NULL CHECK (layer >= 0),  -- the model's layer id
  PRIMARY KEY (series_id, layer)
) WITHOUT ROWID;

-- Series stored before this migration named their layers by row number: ids 0 to layers - 1.
INSERT INTO series_layer (series_id, layer)
WITH RECURSIVE n(i) AS (
  SELECT 0
  UNION ALL
  SELECT i + 1 FROM n WHERE i + 1 < (SELECT MAX(layers) FROM series)
)
SELECT s.id, n.i FROM series s JOIN n ON n.i < s.layers;
