/** A fit as every engine's `fits` table holds it: the row, its domain value, and the values an insert writes. */
import type { LawId } from '../laws/law.js';
import type { NewFit, StoredFit } from './types.js';

/**
 * A `fits` row (without interval_basis); `created_at` and the JSON columns as the engine returns them
 * (SQLite: ISO text and JSON text; PostgreSQL: a Date and parsed json).
 */
export interface FitRow<CreatedAt, Json> {
  id: number;
  law: string;
  created_at: CreatedAt;
  curve_ids: Json;
  options: Json;
  params: Json;
  max_lr: number;
  max_steps: number;
  report: Json;
}

/** The columns of a StoredFit (every one but interval_basis). */
export const FIT_COLUMNS = 'id, law, created_at, curve_ids, options, params, max_lr, max_steps, report';

/** The columns an insert writes, in the order of `fitInsertValues`. */
export const FIT_INSERT_COLUMNS = 'law, created_at, curve_ids, options, params, max_lr, max_steps, report, interval_basis';

/** The values of a new fit's row (created now), in the order of FIT_INSERT_COLUMNS; JSON columns as text. */
export function fitInsertValues(fit: NewFit): (string | number | null)[] {
  return [
    fit.law,
    new Date().toISOString(),
    JSON.stringify(fit.curveIds),
    JSON.stringify(fit.options),
    JSON.stringify(fit.params),
    fit.maxLr,
    fit.maxSteps,
    JSON.stringify(fit.report),
    fit.intervalBasis ? JSON.stringify(fit.intervalBasis) : null,
  ];
}

/** The fit of a row, its creation time already ISO text; `json` decodes a JSON column as the engine returned it. */
export function fitOf<Json>(row: FitRow<unknown, Json>, createdAt: string, json: (value: Json) => unknown): StoredFit {
  return {
    id: row.id,
    law: row.law as LawId,
    createdAt,
    curveIds: json(row.curve_ids) as number[],
    options: json(row.options) as StoredFit['options'],
    params: json(row.params) as number[],
    maxLr: row.max_lr,
    maxSteps: row.max_steps,
    report: json(row.report) as StoredFit['report'],
  };
}
