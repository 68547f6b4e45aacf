/** Stored schedules on PostgreSQL: every optimizer result, as its piecewise spec (the lrs are its expansion). */
import type pg from 'pg';
import { iso } from './db.js';
import type { NewSchedule, Page, SchedulesRepository, StoredSchedule } from '../types.js';

interface ScheduleRow {
  id: number;
  created_at: Date;
  spec: string;
  total_steps: number;
  peak_lr: number;
  source: Record<string, unknown>;
}

function fromRow(row: ScheduleRow): StoredSchedule {
  return { id: row.id, createdAt: iso(row.created_at), spec: row.spec, totalSteps: row.total_steps, peakLr: row.peak_lr, source: row.source };
}

export class PgSchedules implements SchedulesRepository {
  constructor(private readonly pool: pg.Pool) {}

  async insert(schedule: NewSchedule): Promise<StoredSchedule> {
    const { rows } = await this.pool.query<ScheduleRow>(
      'INSERT INTO schedules (created_at, spec, total_steps, peak_lr, source) VALUES ($1, $2, $3, $4, $5) RETURNING *',
      [new Date().toISOString(), schedule.spec, schedule.totalSteps, schedule.peakLr, JSON.stringify(schedule.source)],
    );
    return fromRow(rows[0]!);
  }

  async get(id: number): Promise<StoredSchedule | undefined> {
    const { rows } = await this.pool.query<ScheduleRow>('SELECT * FROM schedules WHERE id = $1', [id]);
    return rows[0] && fromRow(rows[0]);
  }

  async list(limit: number, offset: number): Promise<Page<StoredSchedule>> {
    const [page, count] = await Promise.all([
      this.pool.query<ScheduleRow>('SELECT * FROM schedules ORDER BY id DESC LIMIT $1 OFFSET $2', [limit, offset]),
      this.pool.query<{ total: number }>('SELECT COUNT(*)::integer AS total FROM schedules'),
    ]);
    return { items: page.rows.map(fromRow), total: count.rows[0]!.total };
  }
}
