-- Fits: a law fitted to one or more curves, with its full report.
CREATE TABLE fits (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  law         TEXT    NOT NULL,
  created_at  TEXT    NOT NULL,
  curve_ids   TEXT    NOT NULL,   -- JSON array of curve ids
  options     TEXT    NOT NULL,   -- JSON object as requested
  params      TEXT    NOT NULL,   -- JSON array of fitted values, in the law's parameter order
  max_lr      REAL    NOT NULL,   -- largest lr in the fitted schedules (prediction warns beyond it)
  max_steps   INTEGER NOT NULL,   -- longest fitted schedule, in steps
  report      TEXT    NOT NULL    -- JSON fit report (metrics, standard errors, notes...)
);
