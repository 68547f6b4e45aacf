-- Jobs across processes (issue 15, PostgreSQL only): the queue (pg-boss) delivers a job to a worker,
-- and this row stays the job's truth. `owner` names the start of its work that may write its progress
-- and result (a worker process and attempt); `heartbeat_at` is renewed by that worker while it runs,
-- so a job whose worker died (no heartbeat) is handed to another one, and a late write of the dead
-- start's result finds another owner and stores nothing.
ALTER TABLE jobs ADD COLUMN owner text;
ALTER TABLE jobs ADD COLUMN heartbeat_at timestamptz;
CREATE INDEX jobs_running_heartbeat ON jobs (heartbeat_at) WHERE status = 'running';
