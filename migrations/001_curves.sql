-- Curves: one training run's loss curve with the schedule it was trained with.
CREATE TABLE curves (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  name         TEXT    NOT NULL,
  created_at   TEXT    NOT NULL,
  meta         TEXT    NOT NULL DEFAULT '{}',   -- free-form JSON
  schedule     TEXT,                            -- schedule spec, when given
  warmup_steps INTEGER,                         -- for schedules rebuilt from logged lr values
  point_count  INTEGER NOT NULL,
  first_step   INTEGER NOT NULL,
  last_step    INTEGER NOT NULL
);

-- Points are stored as packed float64 blobs (step, loss, lr) so a 2,000,000-point curve
-- writes and reads back exactly, in one row.
CREATE TABLE curve_points (
  curve_id INTEGER PRIMARY KEY REFERENCES curves(id) ON DELETE CASCADE,
  steps    BLOB NOT NULL,
  losses   BLOB NOT NULL,
  lrs      BLOB            -- NULL when no point logged an lr; NaN for points without one
);
