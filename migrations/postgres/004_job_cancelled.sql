-- PostgreSQL form of migrations/004_job_cancelled.sql: 'cancelled' is a stored job status (PostgreSQL
-- changes the CHECK constraint in place; rows stored as failed with the error 'cancelled' become cancelled).
ALTER TABLE jobs DROP CONSTRAINT jobs_status_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_status_check CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled'));
UPDATE jobs SET status = 'cancelled' WHERE status = 'failed' AND error = 'cancelled';
