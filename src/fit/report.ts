/** formatReport: a fit report as readable text, in the manner of lmfit's fit_report. */
import type { CurveMetrics } from '../laws/metrics.js';
import type { FitReport } from './types.js';

function num(v: number, digits = 6): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1e-3 && Math.abs(v) < 1e6 ? v.toPrecision(digits) : v.toExponential(digits - 1);
}

function metricsLine(m: CurveMetrics): string {
  return `R2 ${m.r2.toFixed(4)}  MAE ${m.mae.toFixed(5)}  RMSE ${m.rmse.toFixed(5)}  PredE ${m.predE.toFixed(5)}  WorstE ${m.worstE.toFixed(5)}`;
}

/**
 * Where a fit's leave-one-out part stands while its report has none: the API runs the folds after the
 * main fit (src/routes/fits.ts), so a stored report says pending, then failed, until they are done.
 */
export type LeaveOneOutStatus = { status: 'pending' } | { status: 'failed'; error: string };

/** The report's leave-one-out section for a status (no metrics yet). */
export function leaveOneOutStatusText(status: LeaveOneOutStatus): string {
  return status.status === 'pending'
    ? `[[Leave-one-curve-out]] pending: the folds run in the background after the main fit`
    : `[[Leave-one-curve-out]] failed: ${status.error}`;
}

/** The report as text; `leaveOneOut` gives the status of leave-one-out metrics not in the report yet. */
export function formatReport(report: FitReport, leaveOneOut?: LeaveOneOutStatus): string {
  const out: string[] = [];
  out.push(`[[Fit Statistics]]`);
  out.push(`    law                = ${report.law}`);
  out.push(`    # data points      = ${report.points.used} (of ${report.points.given} given)`);
  out.push(`    # variables        = ${report.params.length}`);
  out.push(`    objective (Huber)  = ${num(report.objective)}`);
  out.push(`    iterations         = ${report.iterations}`);
  out.push(`    converged          = ${report.converged}`);
  out.push(`    wall time          = ${report.wallMs.toFixed(0)} ms`);
  out.push(`[[Variables]]`);
  const width = Math.max(...report.params.map((p) => p.name.length));
  for (const p of report.params) {
    const rel = Number.isFinite(p.stderr) && p.value !== 0 ? ` (${((100 * p.stderr) / Math.abs(p.value)).toFixed(2)}%)` : '';
    const atBound = p.value <= p.min || p.value >= p.max ? ' (at bound)' : '';
    out.push(`    ${p.name.padEnd(width)}: ${num(p.value, 8)} +/- ${num(p.stderr, 4)}${rel} [${p.min}, ${p.max}]${atBound}`);
  }
  out.push(`[[Metrics]] (at the logged steps)`);
  for (const c of report.curves) out.push(`    ${c.name}: ${metricsLine(c.metrics)}`);
  out.push(`    mean: ${metricsLine(report.mean)}`);
  if (report.leaveOneOut) {
    out.push(`[[Leave-one-curve-out]] (each curve predicted by a fit on the others)`);
    for (const c of report.leaveOneOut.curves) out.push(`    ${c.name}: ${metricsLine(c.metrics)}`);
    out.push(`    mean: ${metricsLine(report.leaveOneOut.mean)}`);
  } else if (leaveOneOut) {
    out.push(leaveOneOutStatusText(leaveOneOut));
  }
  if (report.notes.length > 0) {
    out.push(`[[Notes]]`);
    for (const note of report.notes) out.push(`    - ${note}`);
  }
  return out.join('\n');
}
