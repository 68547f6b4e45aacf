/**
 * CSV curve uploads: a header naming `step`, `loss` and optionally `lr`, in any order
 * (other columns are ignored), then one point per line.
 */
import { badRequest, quote } from '../errors.js';
import { MAX_POINTS, parseStrictNumber, type PointColumns } from './points.js';

export function parseCurveCsv(text: string): PointColumns {
  const lines = text.split(/\r?\n/);
  let at = 0;
  while (at < lines.length && lines[at]!.trim() === '') at++;
  if (at === lines.length) throw badRequest('the CSV is empty: it needs a header step,lr,loss and points', 'body');
  const header = lines[at]!.replace(/^\uFEFF/, '').split(',').map((h) => h.trim().toLowerCase());
  const col = (name: string) => header.indexOf(name);
  const stepCol = col('step');
  const lossCol = col('loss');
  const lrCol = col('lr');
  if (stepCol < 0 || lossCol < 0) {
    throw badRequest(`the CSV header must name columns step and loss (and optionally lr), got ${quote(lines[at])}`, 'header');
  }
  for (const name of ['step', 'loss', 'lr']) {
    if (header.indexOf(name) !== header.lastIndexOf(name)) {
      throw badRequest(`the CSV header names column ${name} more than once: ${quote(lines[at])}`, 'header');
    }
  }
  const rows: string[] = [];
  for (let i = at + 1; i < lines.length; i++) if (lines[i]!.trim() !== '') rows.push(lines[i]!);
  if (rows.length > MAX_POINTS) throw badRequest(`${rows.length} points is over the limit of ${MAX_POINTS}`, 'points');
  const steps = new Float64Array(rows.length);
  const losses = new Float64Array(rows.length);
  const lrs = lrCol >= 0 ? new Float64Array(rows.length) : null;
  for (let i = 0; i < rows.length; i++) {
    const cells = rows[i]!.split(',');
    if (cells.length !== header.length) {
      throw badRequest(`CSV row ${i + 1} has ${cells.length} cells, the header has ${header.length}`, `points[${i}]`);
    }
    const num = (c: number, name: string) => {
      const value = parseStrictNumber(cells[c]!);
      if (Number.isNaN(value) && !/^\s*[+-]?nan\s*$/i.test(cells[c]!)) {
        if (name === 'lr' && cells[c]!.trim() === '') return NaN; // an empty lr cell: not logged
        throw badRequest(`CSV row ${i + 1}: ${name} ${quote(cells[c])} is not a number`, `points[${i}].${name}`);
      }
      if (Number.isNaN(value)) throw badRequest(`CSV row ${i + 1}: ${name} is NaN`, `points[${i}].${name}`);
      return value;
    };
    steps[i] = num(stepCol, 'step');
    losses[i] = num(lossCol, 'loss');
    if (lrs) lrs[i] = num(lrCol, 'lr');
  }
  return { steps, losses, lrs };
}

/** The points as CSV with header `step,lr,loss` (lr column only when the curve has lr values). */
export function formatCurveCsv(points: PointColumns): string {
  const { steps, losses, lrs } = points;
  const out: string[] = [lrs ? 'step,lr,loss' : 'step,loss'];
  for (let i = 0; i < steps.length; i++) {
    if (lrs) out.push(`${steps[i]},${Number.isNaN(lrs[i]!) ? '' : lrs[i]},${losses[i]}`);
    else out.push(`${steps[i]},${losses[i]}`);
  }
  return out.join('\n') + '\n';
}
