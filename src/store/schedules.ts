/** Stored schedules: every optimizer result, as its piecewise spec (the lrs are its expansion). */
import type { Db } from './db.js';
import { notFound } from '../errors.js';

export interface StoredSchedule {
  id: number;
  createdAt: string;
  spec: string;
  totalSteps: number;
  peakLr: number;
  source: Record<string, unknown>;
}

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

export function insertSchedule(db: Db, schedule: Omit<StoredSchedule, 'id' | 'createdAt'>): StoredSchedule {
  const info = db
    .prepare('INSERT INTO schedules (created_at, spec, total_steps, peak_lr, source) VALUES (?, ?, ?, ?, ?)')
    .run(new Date().toISOString(), schedule.spec, schedule.totalSteps, schedule.peakLr, JSON.stringify(schedule.source));
  return getSchedule(db, Number(info.lastInsertRowid));
}

export function getSchedule(db: Db, id: number, field = 'id'): StoredSchedule {
  const row = db.prepare('SELECT * FROM schedules WHERE id = ?').get(id) as ScheduleRow | undefined;
  if (!row) throw notFound(`no schedule with id ${id}`, field);
  return fromRow(row);
}
