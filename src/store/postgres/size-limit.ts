/**
 * LRCAST_DB_MAX_MB on PostgreSQL: the data lrcast stores (point blobs and the JSON of curves, fits and
 * jobs, as counted by octet_length) may not grow past it. PostgreSQL files do not shrink when rows are
 * deleted, so the files' size would never let a full database take writes again after a delete; the
 * stored data does. Checked at the end of the write transactions that add data: a write that crosses
 * the limit throws StorageFullError and rolls back, leaving nothing behind.
 */
import type { Tx } from './db.js';
import { StorageFullError } from '../errors.js';

export class SizeLimit {
  constructor(private readonly maxBytes: number) {}

  /** Throws StorageFullError (the transaction then rolls back) when the stored data exceeds the limit. */
  async check(tx: Tx): Promise<void> {
    if (!(this.maxBytes > 0)) return;
    const { rows } = await tx.query<{ bytes: number }>(
      `SELECT (SELECT COALESCE(SUM(octet_length(steps) + octet_length(losses) + COALESCE(octet_length(lrs), 0)), 0) FROM curve_points)
            + (SELECT COALESCE(SUM(octet_length(name) + octet_length(meta::text)), 0) FROM curves)
            + (SELECT COALESCE(SUM(octet_length(report::text) + COALESCE(octet_length(interval_basis::text), 0)), 0) FROM fits)
            + (SELECT COALESCE(SUM(octet_length(request::text) + COALESCE(octet_length(result::text), 0)), 0) FROM jobs) AS bytes`,
    );
    const bytes = Number(rows[0]!.bytes);
    if (bytes > this.maxBytes) throw new StorageFullError(`the stored data would take ${bytes} bytes, over LRCAST_DB_MAX_MB's ${this.maxBytes}`);
  }
}
