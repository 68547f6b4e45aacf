/** A curve as every engine's `curves` table holds it: the row, its summary, and the values an insert writes. */
import type { CurveSummary, NewCurve } from './types.js';

/**
 * A `curves` row; `created_at` and `meta` as the engine returns them (SQLite: ISO text and JSON text;
 * PostgreSQL: a Date and the parsed json).
 */
export interface CurveRow<CreatedAt, Meta> {
  id: number;
  name: string;
  created_at: CreatedAt;
  meta: Meta;
  schedule: string | null;
  warmup_steps: number | null;
  planned_schedule: string | null;
  point_count: number;
  first_step: number;
  last_step: number;
}

/** The columns an insert writes, in the order of `curveInsertValues`. */
export const CURVE_INSERT_COLUMNS = 'name, created_at, meta, schedule, warmup_steps, planned_schedule, point_count, first_step, last_step';

/** The values of a new curve's row (created now), in the order of CURVE_INSERT_COLUMNS. */
export function curveInsertValues(curve: NewCurve): (string | number | null)[] {
  const { steps } = curve.points;
  return [
    curve.name,
    new Date().toISOString(),
    JSON.stringify(curve.meta ?? {}),
    curve.schedule ?? null,
    curve.warmupSteps ?? null,
    curve.plannedSchedule ?? null,
    steps.length,
    steps[0]!,
    steps[steps.length - 1]!,
  ];
}

/** The summary of a row, its creation time and meta already decoded by the engine. */
export function curveSummaryOf(row: CurveRow<unknown, unknown>, createdAt: string, meta: Record<string, unknown>): CurveSummary {
  return {
    id: row.id,
    name: row.name,
    createdAt,
    meta,
    schedule: row.schedule,
    warmupSteps: row.warmup_steps,
    plannedSchedule: row.planned_schedule,
    pointCount: row.point_count,
    firstStep: row.first_step,
    lastStep: row.last_step,
  };
}
