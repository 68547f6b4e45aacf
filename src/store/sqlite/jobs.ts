/** Jobs on SQLite: status, progress, best loss so far (optimize), attempts, and the result or error. */
import type { Db } from './db.js';
import type { JobsRepository, StoredJob, UnfinishedCount } from '../types.js';
import { jobOf, type JobRow as StoredJobRow } from '../job-row.js';

type JobRow = StoredJobRow<string, string>;

const fromRow = (row: JobRow): StoredJob => jobOf(row, (time) => time, (text) => JSON.parse(text));

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
    this.db.prepare(`UPDATE jobs SET status = 'running', attempts = attempts + 1, updated_at = ? WHERE id = ?`).run(now(), id);
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

  async requeue(id: number, giveBackAttempt: boolean): Promise<void> {
    this.db
      .prepare(
        `UPDATE jobs SET status = 'queued', progress = 0, best_loss = NULL,
           attempts = CASE WHEN ? AND attempts > 0 THEN attempts - 1 ELSE attempts END, updated_at = ?
         WHERE id = ? AND status IN ('queued', 'running')`,
      )
      .run(giveBackAttempt ? 1 : 0, now(), id);
  }

  async unfinished(): Promise<StoredJob[]> {
    const rows = this.db.prepare(`SELECT * FROM jobs WHERE status IN ('queued', 'running') ORDER BY id`).all() as JobRow[];
    return rows.map(fromRow);
  }

  async unfinishedCounts(): Promise<UnfinishedCount[]> {
    return this.db
      .prepare(`SELECT kind, status, COUNT(*) AS count FROM jobs WHERE status IN ('queued', 'running') GROUP BY kind, status ORDER BY kind, status`)
      .all() as UnfinishedCount[];
  }
}
