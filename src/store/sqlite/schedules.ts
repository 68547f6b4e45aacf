/** Stored schedules on SQLite: every optimizer result, as its piecewise spec (the lrs are its expansion). */
import type { Db } from './db.js';
import type { NewSchedule, Page, SchedulesRepository, StoredSchedule } from '../types.js';

interface ScheduleRow {
  id: number;
  created_at: string;
  spec: string;
  total_steps: number;
  peak_lr: number;
  source: string;
}

function fromRow(row: ScheduleRow): StoredSchedule {
  return { id: row.id, createdAt: row.created_at, spec: row.spec, totalSteps: row.total_steps, peakLr: row.peak_lr, source: JSON.parse(row.source) };
}

export class SqliteSchedules implements SchedulesRepository {
  constructor(private readonly db: Db) {}

  async insert(schedule: NewSchedule): Promise<StoredSchedule> {
    const info = this.db
      .prepare('INSERT INTO schedules (created_at, spec, total_steps, peak_lr, source) VALUES (?, ?, ?, ?, ?)')
      .run(new Date().toISOString(), schedule.spec, schedule.totalSteps, schedule.peakLr, JSON.stringify(schedule.source));
    return (await this.get(Number(info.lastInsertRowid)))!;
  }

  async get(id: number): Promise<StoredSchedule | undefined> {
    const row = this.db.prepare('SELECT * FROM schedules WHERE id = ?').get(id) as ScheduleRow | undefined;
    return row && fromRow(row);
  }

  async list(limit: number, offset: number): Promise<Page<StoredSchedule>> {
    const rows = this.db.prepare('SELECT * FROM schedules ORDER BY id DESC LIMIT ? OFFSET ?').all(limit, offset) as ScheduleRow[];
    const { total } = this.db.prepare('SELECT COUNT(*) AS total FROM schedules').get() as { total: number };
    return { items: rows.map(fromRow), total };
  }
}
