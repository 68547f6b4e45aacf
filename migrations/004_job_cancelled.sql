-- 'cancelled' becomes a stored job status (until now a cancelled job was stored as failed with the
-- error 'cancelled', and those rows become cancelled). SQLite cannot change a CHECK constraint in
-- place, so the table is rebuilt: new table, copy, drop, rename. This runs inside the migration's
-- transaction with foreign keys on (PRAGMA foreign_keys cannot change inside a transaction), which
-- is safe: no table references jobs, and jobs' own reference to schedules is copied as it stands
-- (a schedule id with no schedule, possible only if foreign keys were once off, becomes NULL, as
-- ON DELETE SET NULL would have made it).
CREATE TABLE jobs_new (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  kind         TEXT    NOT NULL DEFAULT 'optimize',
  status       TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
  progress     REAL    NOT NULL DEFAULT 0,
  best_loss    REAL,
  request      TEXT    NOT NULL,   -- JSON request as resolved (law params included)
  result       TEXT,               -- JSON result without the per-step lrs (re-expanded from its schedule)
  error        TEXT,               -- why it failed, or the cancel's reason ('cancelled')
  schedule_id  INTEGER REFERENCES schedules(id) ON DELETE SET NULL,
  created_at   TEXT    NOT NULL,
  updated_at   TEXT    NOT NULL
);

INSERT INTO jobs_new (id, kind, status, progress, best_loss, request, result, error, schedule_id, created_at, updated_at)
SELECT id, kind,
       CASE WHEN status = 'failed' AND error = 'cancelled' THEN 'cancelled' ELSE status END,
       progress, best_loss, request, result, error,
       CASE WHEN schedule_id IN (SELECT id FROM schedules) THEN schedule_id END,
       created_at, updated_at
FROM jobs;

-- Keep the AUTOINCREMENT counter: ids of jobs are never reused. The counter row of jobs is handed
-- to jobs_new before jobs is dropped (which would delete it); the rename carries it back to jobs.
DELETE FROM sqlite_sequence WHERE name = 'jobs_new';
UPDATE sqlite_sequence SET name = 'jobs_new' WHERE name = 'jobs';

DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;
CREATE INDEX jobs_status ON jobs(status);
