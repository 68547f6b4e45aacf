-- Optimized schedules (exportable at /schedules/{id}) and optimization jobs.
CREATE TABLE schedules (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  created_at   TEXT    NOT NULL,
  spec         TEXT    NOT NULL,   -- piecewise spec; expandSchedule(spec) is the schedule
  total_steps  INTEGER NOT NULL,
  peak_lr      REAL    NOT NULL,
  source       TEXT    NOT NULL DEFAULT '{}'   -- JSON: how it was made (law, params, space, predictedFinalLoss)
);

CREATE TABLE jobs (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  kind         TEXT    NOT NULL DEFAULT 'optimize',
  status       TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
  progress     REAL    NOT NULL DEFAULT 0,
  best_loss    REAL,
  request      TEXT    NOT NULL,   -- JSON request as resolved (law params included)
  result       TEXT,               -- JSON result without the per-step lrs (re-expanded from its schedule)
  error        TEXT,
  schedule_id  INTEGER REFERENCES schedules(id) ON DELETE SET NULL,
  created_at   TEXT    NOT NULL,
  updated_at   TEXT    NOT NULL
);
CREATE INDEX jobs_status ON jobs(status);
