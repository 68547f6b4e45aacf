/** Fits repository: the fitted parameters, what they were fitted on, and the full report. */
import type { Db } from './db.js';
import { notFound } from '../errors.js';
import type { LawId } from '../laws/law.js';

export interface StoredFit {
  id: number;
  law: LawId;
  createdAt: string;
  curveIds: number[];
  options: Record<string, unknown>;
  params: number[];
  maxLr: number;
  maxSteps: number;
  report: Record<string, unknown>;
}

interface FitRow {
  id: number;
  law: string;
  created_at: string;
  curve_ids: string;
  options: string;
  params: string;
  max_lr: number;
  max_steps: number;
  report: string;
}

function fromRow(row: FitRow): StoredFit {
  return {
    id: row.id,
    law: row.law as LawId,
    createdAt: row.created_at,
    curveIds: JSON.parse(row.curve_ids),
    options: JSON.parse(row.options),
    params: JSON.parse(row.params),
    maxLr: row.max_lr,
    maxSteps: row.max_steps,
    report: JSON.parse(row.report),
  };
}

export function insertFit(db: Db, fit: Omit<StoredFit, 'id' | 'createdAt'>): StoredFit {
  const info = db
    .prepare(
      `INSERT INTO fits (law, created_at, curve_ids, options, params, max_lr, max_steps, report)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .run(
      fit.law,
      new Date().toISOString(),
      JSON.stringify(fit.curveIds),
      JSON.stringify(fit.options),
      JSON.stringify(fit.params),
      fit.maxLr,
      fit.maxSteps,
      JSON.stringify(fit.report),
    );
  return getFit(db, Number(info.lastInsertRowid));
}

export function getFit(db: Db, id: number, field = 'id'): StoredFit {
  const row = db.prepare('SELECT * FROM fits WHERE id = ?').get(id) as FitRow | undefined;
  if (!row) throw notFound(`no fit with id ${id}`, field);
  return fromRow(row);
}

export function listFits(db: Db, limit: number, offset: number): { items: StoredFit[]; total: number } {
  const rows = db.prepare('SELECT * FROM fits ORDER BY id DESC LIMIT ? OFFSET ?').all(limit, offset) as FitRow[];
  const { total } = db.prepare('SELECT COUNT(*) AS total FROM fits').get() as { total: number };
  return { items: rows.map(fromRow), total };
}

/**
 * Replace a fit's report and nothing else (the API completes leave-one-out this way). Returns false,
 * having written nothing, when the fit is gone (deleted meanwhile).
 */
export function updateFitReport(db: Db, id: number, report: Record<string, unknown>): boolean {
  return db.prepare('UPDATE fits SET report = ? WHERE id = ?').run(JSON.stringify(report), id).changes > 0;
}

/** Fits whose report says their leave-one-out metrics are still being computed (`leaveOneOut.status` 'pending'). */
export function fitsWithPendingLeaveOneOut(db: Db): StoredFit[] {
  const rows = db.prepare(`SELECT * FROM fits WHERE json_extract(report, '$.leaveOneOut.status') = 'pending' ORDER BY id`).all() as FitRow[];
  return rows.map(fromRow);
}

export function deleteFit(db: Db, id: number): void {
  if (db.prepare('DELETE FROM fits WHERE id = ?').run(id).changes === 0) throw notFound(`no fit with id ${id}`, 'id');
}
