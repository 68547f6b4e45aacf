/** Jobs (kind 'optimize' or 'fit'): status, progress, best loss so far (optimize), and the result or error. */
import type { Db } from './db.js';
import { notFound } from '../errors.js';

export type JobStatus = 'queued' | 'running' | 'done' | 'failed';

export interface StoredJob {
  id: number;
  kind: string;
  status: JobStatus;
  progress: number;
  bestLoss: number | null;
  request: Record<string, unknown>;
  /** The stored result (without per-step lrs), when done. */
  result: Record<string, unknown> | null;
  error: string | null;
  scheduleId: number | null;
  createdAt: string;
  updatedAt: string;
}

interface JobRow {
  id: number;
  kind: string;
  status: JobStatus;
  progress: number;
  best_loss: number | null;
  request: string;
  result: string | null;
  error: string | null;
  schedule_id: number | null;
  created_at: string;
  updated_at: string;
}

function fromRow(row: JobRow): StoredJob {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    progress: row.progress,
    bestLoss: row.best_loss,
    request: JSON.parse(row.request),
    result: row.result === null ? null : JSON.parse(row.result),
    error: row.error,
    scheduleId: row.schedule_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const now = () => new Date().toISOString();

export function insertJob(db: Db, request: Record<string, unknown>, kind = 'optimize'): StoredJob {
  const at = now();
  const info = db
    .prepare(`INSERT INTO jobs (kind, status, progress, request, created_at, updated_at) VALUES (?, 'queued', 0, ?, ?, ?)`)
    .run(kind, JSON.stringify(request), at, at);
  return getJob(db, Number(info.lastInsertRowid));
}

export function getJob(db: Db, id: number, field = 'id'): StoredJob {
  const row = db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
  if (!row) throw notFound(`no job with id ${id}`, field);
  return fromRow(row);
}

export function markRunning(db: Db, id: number): void {
  db.prepare(`UPDATE jobs SET status = 'running', updated_at = ? WHERE id = ?`).run(now(), id);
}

export function updateProgress(db: Db, id: number, progress: number, bestLoss: number | null): void {
  db.prepare('UPDATE jobs SET progress = ?, best_loss = ?, updated_at = ? WHERE id = ?').run(progress, bestLoss, now(), id);
}

export function markDone(db: Db, id: number, result: Record<string, unknown>, bestLoss: number | null, scheduleId: number | null): void {
  db.prepare(`UPDATE jobs SET status = 'done', progress = 1, best_loss = ?, result = ?, schedule_id = ?, error = NULL, updated_at = ? WHERE id = ?`).run(
    bestLoss,
    JSON.stringify(result),
    scheduleId,
    now(),
    id,
  );
}

export function markFailed(db: Db, id: number, error: string): void {
  db.prepare(`UPDATE jobs SET status = 'failed', error = ?, updated_at = ? WHERE id = ?`).run(error, now(), id);
}

/** On start: jobs left queued or running by a previous process fail with `reason`. Returns how many. */
export function failUnfinishedJobs(db: Db, reason = 'server restarted'): number {
  return db.prepare(`UPDATE jobs SET status = 'failed', error = ?, updated_at = ? WHERE status IN ('queued', 'running')`).run(reason, now()).changes;
}
