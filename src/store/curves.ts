/**
 * Curves repository. Points are packed float64 blobs so they read back bit for bit;
 * every write is one transaction, so a failed upload leaves nothing behind.
 */
import type { Db } from './db.js';
import type { PointColumns } from '../curves/points.js';
import { curveSchedule } from '../curves/schedule.js';
import { notFound } from '../errors.js';

export interface CurveSummary {
  id: number;
  name: string;
  createdAt: string;
  meta: Record<string, unknown>;
  schedule: string | null;
  warmupSteps: number | null;
  pointCount: number;
  firstStep: number;
  lastStep: number;
}

export interface Curve extends CurveSummary {
  points: PointColumns;
}

export interface NewCurve {
  name: string;
  meta?: Record<string, unknown>;
  schedule?: string | null;
  warmupSteps?: number | null;
  points: PointColumns;
}

interface CurveRow {
  id: number;
  name: string;
  created_at: string;
  meta: string;
  schedule: string | null;
  warmup_steps: number | null;
  point_count: number;
  first_step: number;
  last_step: number;
}

const toBlob = (a: Float64Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
/** Copy into a fresh, aligned Float64Array (blobs may sit at any offset of a shared buffer). */
const fromBlob = (b: Buffer) => new Float64Array(new Uint8Array(b).buffer);

function summary(row: CurveRow): CurveSummary {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.created_at,
    meta: JSON.parse(row.meta) as Record<string, unknown>,
    schedule: row.schedule,
    warmupSteps: row.warmup_steps,
    pointCount: row.point_count,
    firstStep: row.first_step,
    lastStep: row.last_step,
  };
}

export function insertCurve(db: Db, curve: NewCurve): CurveSummary {
  const { steps, losses, lrs } = curve.points;
  const write = db.transaction(() => {
    const info = db
      .prepare(
        `INSERT INTO curves (name, created_at, meta, schedule, warmup_steps, point_count, first_step, last_step)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        curve.name,
        new Date().toISOString(),
        JSON.stringify(curve.meta ?? {}),
        curve.schedule ?? null,
        curve.warmupSteps ?? null,
        steps.length,
        steps[0],
        steps[steps.length - 1],
      );
    const id = Number(info.lastInsertRowid);
    db.prepare('INSERT INTO curve_points (curve_id, steps, losses, lrs) VALUES (?, ?, ?, ?)').run(
      id,
      toBlob(steps),
      toBlob(losses),
      lrs ? toBlob(lrs) : null,
    );
    return id;
  });
  return getCurveSummary(db, write());
}

export function listCurves(db: Db, limit: number, offset: number): { items: CurveSummary[]; total: number } {
  const rows = db.prepare('SELECT * FROM curves ORDER BY id LIMIT ? OFFSET ?').all(limit, offset) as CurveRow[];
  const { total } = db.prepare('SELECT COUNT(*) AS total FROM curves').get() as { total: number };
  return { items: rows.map(summary), total };
}

export function countCurves(db: Db): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM curves').get() as { n: number }).n;
}

/** `field` names the request field that carried the id, for the 404. */
export function getCurveSummary(db: Db, id: number, field = 'id'): CurveSummary {
  const row = db.prepare('SELECT * FROM curves WHERE id = ?').get(id) as CurveRow | undefined;
  if (!row) throw notFound(`no curve with id ${id}`, field);
  return summary(row);
}

export function getCurve(db: Db, id: number, field = 'id'): Curve {
  const head = getCurveSummary(db, id, field);
  const row = db.prepare('SELECT steps, losses, lrs FROM curve_points WHERE curve_id = ?').get(id) as {
    steps: Buffer;
    losses: Buffer;
    lrs: Buffer | null;
  };
  return { ...head, points: { steps: fromBlob(row.steps), losses: fromBlob(row.losses), lrs: row.lrs ? fromBlob(row.lrs) : null } };
}

/** A stored curve with its per-step schedule, as fitting and prediction need it. */
export function getCurveWithSchedule(db: Db, id: number, field = 'id'): Curve & { lrSchedule: Float64Array } {
  const curve = getCurve(db, id, field);
  return { ...curve, lrSchedule: curveSchedule(curve.points, curve.schedule, curve.warmupSteps) };
}

export function deleteCurve(db: Db, id: number): void {
  const info = db.prepare('DELETE FROM curves WHERE id = ?').run(id);
  if (info.changes === 0) throw notFound(`no curve with id ${id}`, 'id');
}
