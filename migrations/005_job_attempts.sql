-- Jobs survive a restart (issue 12): a queued job runs after it, and a job the restart interrupted
-- while running is retried once. The work is re-made from `request`, which already keeps the input
-- (a fit's body; a search's request with its law params resolved). `attempts` counts the starts of
-- a job's work that did not end by a clean stop of the server (a clean stop gives its start back),
-- so a job found running at start-up with 2 attempts was interrupted twice and fails instead.
ALTER TABLE jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
