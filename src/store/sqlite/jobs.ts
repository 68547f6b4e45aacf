/** Jobs on SQLite: status, progress, best loss so far (optimize), and the result or error. */
import type { Db } from './db.js';
import type { JobStatus, JobsRepository, StoredJob } from '../types.js';

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

export class SqliteJobs implements JobsRepository {
  constructor(private readonly db: Db) {}

  async insert(kind: string, request: Record<string, unknown>): Promise<StoredJob> {
    const at = now();
    const info = this.db
      .prepare(`INSERT INTO jobs (kind, status, progress, request, created_at, updated_at) VALUES (?, 'queued', 0, ?, ?, ?)`)
      .run(kind, JSON.stringify(request), at, at);
    return (await this.get(Number(info.lastInsertRowid)))!;
  }

  async get(id: number): Promise<StoredJob | undefined> {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
    return row && fromRow(row);
  }

  async markRunning(id: number): Promise<void> {
    this.db.prepare(`UPDATE jobs SET status = 'running', updated_at = ? WHERE id = ?`).run(now(), id);
  }

  async updateProgress(id: number, progress: number, bestLoss: number | null): Promise<void> {
    this.db.prepare('UPDATE jobs SET progress = ?, best_loss = ?, updated_at = ? WHERE id = ?').run(progress, bestLoss, now(), id);
  }

  async markDone(id: number, result: Record<string, unknown>, bestLoss: number | null, scheduleId: number | null): Promise<void> {
    this.db
      .prepare(`UPDATE jobs SET status = 'done', progress = 1, best_loss = ?, result = ?, schedule_id = ?, error = NULL, updated_at = ? WHERE id = ?`)
      .run(bestLoss, JSON.stringify(result), scheduleId, now(), id);
  }

  async markFailed(id: number, error: string): Promise<void> {
    this.db.prepare(`UPDATE jobs SET status = 'failed', error = ?, updated_at = ? WHERE id = ?`).run(error, now(), id);
  }

  async markCancelled(id: number, reason: string): Promise<void> {
    this.db.prepare(`UPDATE jobs SET status = 'cancelled', error = ?, updated_at = ? WHERE id = ?`).run(reason, now(), id);
  }

  async failUnfinished(reason: string): Promise<number> {
    return this.db.prepare(`UPDATE jobs SET status = 'failed', error = ?, updated_at = ? WHERE status IN ('queued', 'running')`).run(reason, now()).changes;
  }
}
