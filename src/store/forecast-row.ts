/** A stored forecast of a live run, as every engine's `curve_forecasts` table holds it, and its domain value. */
import type { CurveForecastEntry } from './types.js';

/** A `curve_forecasts` row; `created_at` as the engine returns it (SQLite: ISO text, PostgreSQL: a Date). */
export interface ForecastRow<CreatedAt> {
  source: string;
  created_at: CreatedAt;
  point_count: number;
  last_step: number;
  final_step: number;
  final_loss: number | null;
  lower: number | null;
  upper: number | null;
}

/** The forecast of a row, its creation time already turned into ISO text by the engine. */
export function forecastEntryOf(row: ForecastRow<unknown>, createdAt: string): CurveForecastEntry {
  return {
    source: row.source,
    createdAt,
    pointCount: row.point_count,
    lastStep: row.last_step,
    finalStep: row.final_step,
    finalLoss: row.final_loss,
    lower: row.lower,
    upper: row.upper,
  };
}
