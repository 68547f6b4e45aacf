/** A job as every engine's `jobs` table holds it, and its domain value. */
import type { JobStatus, StoredJob } from './types.js';

/**
 * A `jobs` row; the timestamps and the JSON columns as the engine returns them (SQLite: ISO text and
 * JSON text; PostgreSQL: Dates and parsed json).
 */
export interface JobRow<Time, Json> {
  id: number;
  kind: string;
  status: JobStatus;
  progress: number;
  best_loss: number | null;
  request: Json;
  result: Json | null;
  error: string | null;
  schedule_id: number | null;
  attempts: number;
  created_at: Time;
  updated_at: Time;
}

/** The job of a row; `iso` turns the engine's timestamps into ISO text, `json` decodes its JSON columns. */
export function jobOf<Time, Json>(row: JobRow<Time, Json>, iso: (time: Time) => string, json: (value: Json) => unknown): StoredJob {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    progress: row.progress,
    bestLoss: row.best_loss,
    request: json(row.request) as StoredJob['request'],
    result: row.result === null ? null : (json(row.result) as StoredJob['result']),
    error: row.error,
    scheduleId: row.schedule_id,
    attempts: row.attempts,
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}
