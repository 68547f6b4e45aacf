/**
 * Fits on PostgreSQL: the fitted parameters, what they were fitted on, the full report, and the
 * interval basis (its own column, read only by `intervalBasis`).
 */
import type pg from 'pg';
import { iso, transaction } from './db.js';
import type { SizeLimit } from './size-limit.js';
import type { IntervalBasis } from '../../predict/interval-basis.js';
import type { FitsRepository, NewFit, Page, StoredFit } from '../types.js';
import { FIT_COLUMNS, FIT_INSERT_COLUMNS, fitInsertValues, fitOf, type FitRow as StoredFitRow } from '../fit-row.js';

type FitRow = StoredFitRow<Date, unknown>;

const fromRow = (row: FitRow): StoredFit => fitOf(row, iso(row.created_at), (value) => value);

export class PgFits implements FitsRepository {
  constructor(
    private readonly pool: pg.Pool,
    private readonly limit: SizeLimit,
  ) {}

  async insert(fit: NewFit): Promise<StoredFit> {
    return transaction(this.pool, async (tx) => {
      const { rows } = await tx.query<FitRow>(
        `INSERT INTO fits (${FIT_INSERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${FIT_COLUMNS}`,
        fitInsertValues(fit),
      );
      await this.limit.check(tx);
      return fromRow(rows[0]!);
    });
  }

  async get(id: number): Promise<StoredFit | undefined> {
    const { rows } = await this.pool.query<FitRow>(`SELECT ${FIT_COLUMNS} FROM fits WHERE id = $1`, [id]);
    return rows[0] && fromRow(rows[0]);
  }

  async list(limit: number, offset: number): Promise<Page<StoredFit>> {
    const [page, count] = await Promise.all([
      this.pool.query<FitRow>(`SELECT ${FIT_COLUMNS} FROM fits ORDER BY id DESC LIMIT $1 OFFSET $2`, [limit, offset]),
      this.pool.query<{ total: number }>('SELECT COUNT(*)::integer AS total FROM fits'),
    ]);
    return { items: page.rows.map(fromRow), total: count.rows[0]!.total };
  }

  async updateReport(id: number, report: Record<string, unknown>): Promise<boolean> {
    return ((await this.pool.query('UPDATE fits SET report = $1 WHERE id = $2', [JSON.stringify(report), id])).rowCount ?? 0) > 0;
  }

  async withPendingLeaveOneOut(): Promise<StoredFit[]> {
    const { rows } = await this.pool.query<FitRow>(`SELECT ${FIT_COLUMNS} FROM fits WHERE report -> 'leaveOneOut' ->> 'status' = 'pending' ORDER BY id`);
    return rows.map(fromRow);
  }

  async intervalBasis(id: number): Promise<IntervalBasis | null | undefined> {
    const { rows } = await this.pool.query<{ interval_basis: IntervalBasis | null }>('SELECT interval_basis FROM fits WHERE id = $1', [id]);
    if (!rows[0]) return undefined;
    return rows[0].interval_basis;
  }

  async setIntervalBasis(id: number, basis: IntervalBasis | null): Promise<boolean> {
    return ((await this.pool.query('UPDATE fits SET interval_basis = $1 WHERE id = $2', [basis ? JSON.stringify(basis) : null, id])).rowCount ?? 0) > 0;
  }

  async delete(id: number): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM fits WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }
}
