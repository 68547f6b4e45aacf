/**
 * Fits on SQLite: the fitted parameters, what they were fitted on, the full report, and the interval
 * basis (its own column, read only by `intervalBasis`: lists and reads of fits leave its KBs alone).
 */
import type { Db } from './db.js';
import type { IntervalBasis } from '../../predict/interval-basis.js';
import type { FitsRepository, NewFit, Page, StoredFit } from '../types.js';
import { FIT_COLUMNS, FIT_INSERT_COLUMNS, fitInsertValues, fitOf, type FitRow as StoredFitRow } from '../fit-row.js';

type FitRow = StoredFitRow<string, string>;

const fromRow = (row: FitRow): StoredFit => fitOf(row, row.created_at, (text) => JSON.parse(text));

export class SqliteFits implements FitsRepository {
  constructor(private readonly db: Db) {}

  private getNow(id: number): StoredFit | undefined {
    const row = this.db.prepare(`SELECT ${FIT_COLUMNS} FROM fits WHERE id = ?`).get(id) as FitRow | undefined;
    return row && fromRow(row);
  }

  async insert(fit: NewFit): Promise<StoredFit> {
    const info = this.db.prepare(`INSERT INTO fits (${FIT_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(...fitInsertValues(fit));
    return this.getNow(Number(info.lastInsertRowid))!;
  }

  async get(id: number): Promise<StoredFit | undefined> {
    return this.getNow(id);
  }

  async list(limit: number, offset: number): Promise<Page<StoredFit>> {
    const rows = this.db.prepare(`SELECT ${FIT_COLUMNS} FROM fits ORDER BY id DESC LIMIT ? OFFSET ?`).all(limit, offset) as FitRow[];
    const { total } = this.db.prepare('SELECT COUNT(*) AS total FROM fits').get() as { total: number };
    return { items: rows.map(fromRow), total };
  }

  async updateReport(id: number, report: Record<string, unknown>): Promise<boolean> {
    return this.db.prepare('UPDATE fits SET report = ? WHERE id = ?').run(JSON.stringify(report), id).changes > 0;
  }

  async withPendingLeaveOneOut(): Promise<StoredFit[]> {
    const rows = this.db.prepare(`SELECT ${FIT_COLUMNS} FROM fits WHERE json_extract(report, '$.leaveOneOut.status') = 'pending' ORDER BY id`).all() as FitRow[];
    return rows.map(fromRow);
  }

  async intervalBasis(id: number): Promise<IntervalBasis | null | undefined> {
    const row = this.db.prepare('SELECT interval_basis FROM fits WHERE id = ?').get(id) as { interval_basis: string | null } | undefined;
    if (!row) return undefined;
    return row.interval_basis === null ? null : (JSON.parse(row.interval_basis) as IntervalBasis);
  }

  async setIntervalBasis(id: number, basis: IntervalBasis | null): Promise<boolean> {
    return this.db.prepare('UPDATE fits SET interval_basis = ? WHERE id = ?').run(basis ? JSON.stringify(basis) : null, id).changes > 0;
  }

  async delete(id: number): Promise<boolean> {
    return this.db.prepare('DELETE FROM fits WHERE id = ?').run(id).changes > 0;
  }
}
