/**
 * The migration path from the embedded engine to the shared one (`npm run migrate-to-postgres`):
 * copy a SQLite database's curves (with their points and live-run forecasts), fits (with their
 * interval basis), schedules and finished jobs into an EMPTY PostgreSQL database, ids and times kept,
 * in one transaction, then verify: the row counts of each table, and a SHA-256 of every curve's point
 * data computed by each engine from what it stores.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { openDb } from './sqlite/db.js';
import { createPool, migrate, parseLocation, transaction, type Tx } from './postgres/db.js';

export interface CopyReport {
  copied: Record<'curves' | 'curve_forecasts' | 'fits' | 'schedules' | 'jobs', number>;
  /** Jobs left queued or running in the SQLite database: not copied (submit them again). */
  skippedUnfinishedJobs: number;
  /** Curves whose point checksums were compared (all of them) and matched. */
  verifiedCurves: number;
}

/** The target is not empty: nothing was copied. */
export class TargetNotEmptyError extends Error {}

/** The copy does not match its source (counts or checksums): the transaction was rolled back. */
export class VerificationError extends Error {}

type Row = Record<string, unknown>;

/** Insert `rows` into `table` (explicit ids), a statement per row (the curves' blobs are large: one at a time). */
async function insertRows(tx: Tx, table: string, columns: string[], rows: Row[]): Promise<void> {
  const sql = `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`;
  for (const row of rows) await tx.query(sql, columns.map((c) => row[c] ?? null));
}

/** Identity columns continue after the copied ids (new rows do not collide with them). */
async function continueIds(tx: Tx, table: string): Promise<void> {
  await tx.query(`SELECT setval(pg_get_serial_sequence('${table}', 'id'), GREATEST((SELECT MAX(id) FROM ${table}), 1), (SELECT MAX(id) FROM ${table}) IS NOT NULL)`);
}

const sha256 = (...parts: (Buffer | null)[]) => {
  const hash = createHash('sha256');
  for (const part of parts) if (part) hash.update(part);
  return hash.digest('hex');
};

/** Copy the SQLite database at `from` into the empty PostgreSQL database at `to` (see the top of this file). */
export async function copySqliteToPostgres(from: string, to: string, log: (line: string) => void = () => {}): Promise<CopyReport> {
  if (!existsSync(from)) throw new Error(`${from} does not exist`);
  // Opening applies any pending SQLite migrations, so the columns read below exist.
  const sqlite = openDb(from);
  const location = parseLocation(to);
  const pool = createPool(location, 2);
  try {
    await migrate(pool, location.schema);
    const counts = await pool.query<{ t: string; n: number }>(
      `SELECT 'curves' AS t, COUNT(*)::int AS n FROM curves UNION ALL SELECT 'fits', COUNT(*)::int FROM fits
       UNION ALL SELECT 'schedules', COUNT(*)::int FROM schedules UNION ALL SELECT 'jobs', COUNT(*)::int FROM jobs`,
    );
    const present = counts.rows.filter((r) => r.n > 0);
    if (present.length > 0) {
      throw new TargetNotEmptyError(`the target database is not empty (${present.map((r) => `${r.n} ${r.t}`).join(', ')}): migrate-to-postgres copies into an empty database only, and copied nothing`);
    }

    const all = (sql: string) => sqlite.prepare(sql).all() as Row[];
    const curves = all('SELECT id, name, created_at, meta, schedule, warmup_steps, planned_schedule, point_count, first_step, last_step FROM curves ORDER BY id');
    const forecasts = all('SELECT id, curve_id, source, created_at, point_count, last_step, final_step, final_loss, lower, upper FROM curve_forecasts ORDER BY id');
    const fits = all('SELECT id, law, created_at, curve_ids, options, params, max_lr, max_steps, report, interval_basis FROM fits ORDER BY id');
    const schedules = all('SELECT id, created_at, spec, total_steps, peak_lr, source FROM schedules ORDER BY id');
    const jobs = all(`SELECT id, kind, status, progress, best_loss, request, result, error, schedule_id, attempts, created_at, updated_at FROM jobs WHERE status IN ('done', 'failed', 'cancelled') ORDER BY id`);
    const unfinished = (sqlite.prepare(`SELECT COUNT(*) AS n FROM jobs WHERE status IN ('queued', 'running')`).get() as { n: number }).n;
    const sourceSums = new Map<number, string>();

    await transaction(pool, async (tx) => {
      await insertRows(tx, 'curves', Object.keys(curves[0] ?? { id: 0 }), curves);
      const points = sqlite.prepare('SELECT steps, losses, lrs FROM curve_points WHERE curve_id = ?');
      for (const curve of curves) {
        const row = points.get(curve.id) as { steps: Buffer; losses: Buffer; lrs: Buffer | null };
        sourceSums.set(curve.id as number, sha256(row.steps, row.losses, row.lrs));
        await tx.query('INSERT INTO curve_points (curve_id, steps, losses, lrs) VALUES ($1, $2, $3, $4)', [curve.id, row.steps, row.losses, row.lrs]);
      }
      log(`curves: ${curves.length} (with their points)`);
      if (forecasts.length) await insertRows(tx, 'curve_forecasts', Object.keys(forecasts[0]!), forecasts);
      if (fits.length) await insertRows(tx, 'fits', Object.keys(fits[0]!), fits);
      log(`fits: ${fits.length} (with their interval basis)`);
      if (schedules.length) await insertRows(tx, 'schedules', Object.keys(schedules[0]!), schedules);
      if (jobs.length) await insertRows(tx, 'jobs', Object.keys(jobs[0]!), jobs);
      log(`schedules: ${schedules.length}; finished jobs: ${jobs.length}${unfinished ? ` (${unfinished} queued or running not copied: submit them again)` : ''}`);
      for (const table of ['curves', 'curve_forecasts', 'fits', 'schedules', 'jobs']) await continueIds(tx, table);

      // Verify inside the transaction: a mismatch rolls everything back.
      const copied = await tx.query<{ t: string; n: number }>(
        `SELECT 'curves' AS t, COUNT(*)::int AS n FROM curves UNION ALL SELECT 'curve_points', COUNT(*)::int FROM curve_points
         UNION ALL SELECT 'curve_forecasts', COUNT(*)::int FROM curve_forecasts UNION ALL SELECT 'fits', COUNT(*)::int FROM fits
         UNION ALL SELECT 'schedules', COUNT(*)::int FROM schedules UNION ALL SELECT 'jobs', COUNT(*)::int FROM jobs`,
      );
      const expected: Record<string, number> = { curves: curves.length, curve_points: curves.length, curve_forecasts: forecasts.length, fits: fits.length, schedules: schedules.length, jobs: jobs.length };
      for (const { t, n } of copied.rows) if (n !== expected[t]) throw new VerificationError(`${t}: ${n} rows copied, ${expected[t]} in the source`);
      const sums = await tx.query<{ curve_id: number; sum: string }>(
        `SELECT curve_id, encode(sha256(steps || losses || COALESCE(lrs, ''::bytea)), 'hex') AS sum FROM curve_points ORDER BY curve_id`,
      );
      for (const { curve_id, sum } of sums.rows) {
        if (sourceSums.get(curve_id) !== sum) throw new VerificationError(`curve ${curve_id}: the checksum of its points differs from the source's`);
      }
      log(`verified: row counts of every table, and the SHA-256 of the points of all ${sums.rows.length} curves`);
    });
    return {
      copied: { curves: curves.length, curve_forecasts: forecasts.length, fits: fits.length, schedules: schedules.length, jobs: jobs.length },
      skippedUnfinishedJobs: unfinished,
      verifiedCurves: sourceSums.size,
    };
  } finally {
    sqlite.close();
    await pool.end();
  }
}
