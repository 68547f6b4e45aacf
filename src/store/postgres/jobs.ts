/** Jobs on PostgreSQL: status, progress, best loss so far (optimize), attempts, and the result or error. */
import type pg from 'pg';
import { iso } from './db.js';
import type { JobsRepository, StoredJob, UnfinishedCount } from '../types.js';
import { jobOf, type JobRow as StoredJobRow } from '../job-row.js';

export type JobRow = StoredJobRow<Date, Record<string, unknown>>;

export const JOB_COLUMNS = 'id, kind, status, progress, best_loss, request, result, error, schedule_id, attempts, created_at, updated_at';

export const jobFromRow = (row: JobRow): StoredJob => jobOf(row, iso, (value) => value);

const now = () => new Date().toISOString();

export class PgJobs implements JobsRepository {
  constructor(private readonly pool: pg.Pool) {}

  async insert(kind: string, request: Record<string, unknown>): Promise<StoredJob> {
    const at = now();
    const { rows } = await this.pool.query<JobRow>(
      `INSERT INTO jobs (kind, status, progress, request, created_at, updated_at) VALUES ($1, 'queued', 0, $2, $3, $3) RETURNING ${JOB_COLUMNS}`,
      [kind, JSON.stringify(request), at],
    );
    return jobFromRow(rows[0]!);
  }

  async get(id: number): Promise<StoredJob | undefined> {
    const { rows } = await this.pool.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE id = $1`, [id]);
    return rows[0] && jobFromRow(rows[0]);
  }

  async markRunning(id: number): Promise<void> {
    await this.pool.query(`UPDATE jobs SET status = 'running', attempts = attempts + 1, updated_at = $1 WHERE id = $2`, [now(), id]);
  }

  async updateProgress(id: number, progress: number, bestLoss: number | null): Promise<void> {
    await this.pool.query('UPDATE jobs SET progress = $1, best_loss = $2, updated_at = $3 WHERE id = $4', [progress, bestLoss, now(), id]);
  }

  async markDone(id: number, result: Record<string, unknown>, bestLoss: number | null, scheduleId: number | null): Promise<void> {
    await this.pool.query(
      `UPDATE jobs SET status = 'done', progress = 1, best_loss = $1, result = $2, schedule_id = $3, error = NULL, updated_at = $4 WHERE id = $5`,
      [bestLoss, JSON.stringify(result), scheduleId, now(), id],
    );
  }

  async markFailed(id: number, error: string): Promise<void> {
    await this.pool.query(`UPDATE jobs SET status = 'failed', error = $1, updated_at = $2 WHERE id = $3`, [error, now(), id]);
  }

  async markCancelled(id: number, reason: string): Promise<void> {
    await this.pool.query(`UPDATE jobs SET status = 'cancelled', error = $1, updated_at = $2 WHERE id = $3`, [reason, now(), id]);
  }

  async requeue(id: number, giveBackAttempt: boolean): Promise<void> {
    await this.pool.query(
      `UPDATE jobs SET status = 'queued', progress = 0, best_loss = NULL,
         attempts = CASE WHEN $1 AND attempts > 0 THEN attempts - 1 ELSE attempts END, updated_at = $2
       WHERE id = $3 AND status IN ('queued', 'running')`,
      [giveBackAttempt, now(), id],
    );
  }

  async unfinished(): Promise<StoredJob[]> {
    const { rows } = await this.pool.query<JobRow>(`SELECT ${JOB_COLUMNS} FROM jobs WHERE status IN ('queued', 'running') ORDER BY id`);
    return rows.map(jobFromRow);
  }

  async unfinishedCounts(): Promise<UnfinishedCount[]> {
    const { rows } = await this.pool.query<UnfinishedCount>(
      `SELECT kind, status, COUNT(*)::integer AS count FROM jobs WHERE status IN ('queued', 'running') GROUP BY kind, status ORDER BY kind, status`,
    );
    return rows;
  }
}
