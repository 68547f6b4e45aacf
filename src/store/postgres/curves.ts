/**
 * Curves on PostgreSQL. Points are packed float64 `bytea` so they read back bit for bit; every write
 * is one transaction (an append locks the curve's row while it reads, merges and writes its points,
 * so concurrent appends from several instances cannot lose points).
 */
import type pg from 'pg';
import { iso, transaction, type Tx } from './db.js';
import type { SizeLimit } from './size-limit.js';
import type { Curve, CurveForecastEntry, CurveSummary, CurvesRepository, NewCurve, Page, PointsUpdate } from '../types.js';
import { float64Bytes, float64FromBytes } from '../float64-bytes.js';
import { forecastEntryOf, type ForecastRow } from '../forecast-row.js';
import { CURVE_INSERT_COLUMNS, curveInsertValues, curveSummaryOf, type CurveRow as StoredCurveRow } from '../curve-row.js';

type CurveRow = StoredCurveRow<Date, Record<string, unknown>>;

const CURVE_COLUMNS = `id, ${CURVE_INSERT_COLUMNS}`;

const summary = (row: CurveRow): CurveSummary => curveSummaryOf(row, iso(row.created_at), row.meta);

export class PgCurves implements CurvesRepository {
  constructor(
    private readonly pool: pg.Pool,
    private readonly limit: SizeLimit,
  ) {}

  private async insertOne(tx: Tx, curve: NewCurve): Promise<CurveSummary> {
    const { steps, losses, lrs } = curve.points;
    const { rows } = await tx.query<CurveRow>(
      `INSERT INTO curves (${CURVE_INSERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${CURVE_COLUMNS}`,
      curveInsertValues(curve),
    );
    const row = rows[0]!;
    await tx.query('INSERT INTO curve_points (curve_id, steps, losses, lrs) VALUES ($1, $2, $3, $4)', [row.id, float64Bytes(steps), float64Bytes(losses), lrs ? float64Bytes(lrs) : null]);
    return summary(row);
  }

  async insert(curve: NewCurve): Promise<CurveSummary> {
    return (await this.insertMany([curve]))[0]!;
  }

  async insertMany(curves: NewCurve[]): Promise<CurveSummary[]> {
    return transaction(this.pool, async (tx) => {
      const out: CurveSummary[] = [];
      for (const curve of curves) out.push(await this.insertOne(tx, curve));
      await this.limit.check(tx);
      return out;
    });
  }

  async list(limit: number, offset: number): Promise<Page<CurveSummary>> {
    const [page, total] = await Promise.all([
      this.pool.query<CurveRow>(`SELECT ${CURVE_COLUMNS} FROM curves ORDER BY id LIMIT $1 OFFSET $2`, [limit, offset]),
      this.count(),
    ]);
    return { items: page.rows.map(summary), total };
  }

  async count(): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>('SELECT COUNT(*)::integer AS n FROM curves');
    return rows[0]!.n;
  }

  async summary(id: number): Promise<CurveSummary | undefined> {
    const { rows } = await this.pool.query<CurveRow>(`SELECT ${CURVE_COLUMNS} FROM curves WHERE id = $1`, [id]);
    return rows[0] && summary(rows[0]);
  }

  /**
   * The curve with its points, read in one statement. `forUpdate`: its row is locked first, until the
   * transaction ends, in a statement of its own: the read after the lock then sees what an append
   * that held it committed (a locking read of the join would see the locked row's new version but
   * the points of the snapshot before it).
   */
  private async read(db: pg.Pool | Tx, id: number, forUpdate = false): Promise<Curve | undefined> {
    if (forUpdate && !(await db.query('SELECT id FROM curves WHERE id = $1 FOR UPDATE', [id])).rowCount) return undefined;
    const { rows } = await db.query<CurveRow & { steps: Buffer; losses: Buffer; lrs: Buffer | null }>(
      `SELECT c.id, c.name, c.created_at, c.meta, c.schedule, c.warmup_steps, c.planned_schedule, c.point_count, c.first_step, c.last_step,
              p.steps, p.losses, p.lrs
       FROM curves c JOIN curve_points p ON p.curve_id = c.id WHERE c.id = $1`,
      [id],
    );
    const row = rows[0];
    if (!row) return undefined;
    return { ...summary(row), points: { steps: float64FromBytes(row.steps), losses: float64FromBytes(row.losses), lrs: row.lrs ? float64FromBytes(row.lrs) : null } };
  }

  async get(id: number): Promise<Curve | undefined> {
    return this.read(this.pool, id);
  }

  async updatePoints(id: number, update: PointsUpdate): Promise<Curve | undefined> {
    return transaction(this.pool, async (tx) => {
      const current = await this.read(tx, id, true);
      if (!current) return undefined;
      const next = update(current);
      if (!next) return current;
      const { steps, losses, lrs } = next;
      const { rows } = await tx.query<CurveRow>(
        `UPDATE curves SET point_count = $1, first_step = $2, last_step = $3 WHERE id = $4 RETURNING ${CURVE_COLUMNS}`,
        [steps.length, steps[0], steps[steps.length - 1], id],
      );
      await tx.query('UPDATE curve_points SET steps = $1, losses = $2, lrs = $3 WHERE curve_id = $4', [float64Bytes(steps), float64Bytes(losses), lrs ? float64Bytes(lrs) : null, id]);
      await this.limit.check(tx);
      return { ...summary(rows[0]!), points: next };
    });
  }

  async setPlannedSchedule(id: number, spec: string | null): Promise<boolean> {
    return ((await this.pool.query('UPDATE curves SET planned_schedule = $1 WHERE id = $2', [spec, id])).rowCount ?? 0) > 0;
  }

  async addForecast(curveId: number, entry: Omit<CurveForecastEntry, 'createdAt'>, keep: number): Promise<void> {
    await transaction(this.pool, async (tx) => {
      await tx.query(
        `INSERT INTO curve_forecasts (curve_id, source, created_at, point_count, last_step, final_step, final_loss, lower, upper)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [curveId, entry.source, new Date().toISOString(), entry.pointCount, entry.lastStep, entry.finalStep, entry.finalLoss, entry.lower, entry.upper],
      );
      await tx.query(
        `DELETE FROM curve_forecasts WHERE curve_id = $1 AND source = $2 AND id NOT IN
           (SELECT id FROM curve_forecasts WHERE curve_id = $1 AND source = $2 ORDER BY id DESC LIMIT $3)`,
        [curveId, entry.source, keep],
      );
    });
  }

  async forecasts(curveId: number, source: string, limit: number): Promise<CurveForecastEntry[]> {
    const { rows } = await this.pool.query<ForecastRow<Date>>('SELECT * FROM curve_forecasts WHERE curve_id = $1 AND source = $2 ORDER BY id DESC LIMIT $3', [
      curveId,
      source,
      limit,
    ]);
    return rows.reverse().map((row) => forecastEntryOf(row, iso(row.created_at)));
  }

  async delete(id: number): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM curves WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }
}
