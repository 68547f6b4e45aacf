-- PostgreSQL form of migrations/005_job_attempts.sql: starts of a job's work not given back by a clean stop.
ALTER TABLE jobs ADD COLUMN attempts integer NOT NULL DEFAULT 0;
