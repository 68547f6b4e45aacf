/**
 * CSV curve uploads: a header naming `step`, `loss` and optionally `lr`, in any order
 * (other columns are ignored), then one point per line.
 *
 * Lines end in LF, CRLF or CR alone (old Mac), mixed as they come; a leading byte order mark is
 * dropped; blank lines are skipped. Cells may be quoted as in RFC 4180 (`"..."`, with `""` for a
 * quote inside), so a quoted header name or number reads as the bare one and an ignored text
 * column may hold commas or line breaks; a `"` inside an unquoted cell is an ordinary character.
 */
import { badRequest, quote } from '../errors.js';
import { MAX_POINTS, parseStrictNumber, type PointColumns } from './points.js';

/** Where a record lies, for messages: record 0 is the header, record k the k-th data row. */
function recordName(index: number): { what: string; field: string } {
  return index === 0 ? { what: 'the CSV header', field: 'header' } : { what: `CSV row ${index}`, field: `points[${index - 1}]` };
}

/**
 * A record of the CSV: a line without quotes, its cells split at commas when read (as the rows of a
 * large upload are, one at a time), or the cells of a record with quoted cells.
 */
type CsvRecord = string | string[];
const cellsOf = (record: CsvRecord): string[] => (typeof record === 'string' ? record.split(',') : record);

/**
 * The records of a CSV text, blank lines (whitespace only) left out. A line without `"` is kept
 * whole; one with a quote is read cell by cell (readQuoted), its quoted cells may span lines.
 */
function csvRecords(text: string): CsvRecord[] {
  const records: CsvRecord[] = [];
  const n = text.length;
  // The next \n, \r and " at or after a position (n when there is none), kept as the reading moves on.
  const next = { '\n': -1, '\r': -1, '"': -1 };
  const nextOf = (ch: '\n' | '\r' | '"', from: number) => {
    if (next[ch] < from && next[ch] !== n) {
      const at = text.indexOf(ch, from);
      next[ch] = at < 0 ? n : at;
    }
    return next[ch];
  };
  let i = 0;
  while (i < n) {
    const end = Math.min(nextOf('\n', i), nextOf('\r', i));
    if (nextOf('"', i) >= end) {
      const line = text.slice(i, end);
      if (line.trim() !== '') records.push(line);
      i = end;
    } else {
      i = readQuoted(text, i, records);
    }
    if (i < n) i += text.charCodeAt(i) === 13 && text.charCodeAt(i + 1) === 10 ? 2 : 1; // the line break
  }
  return records;
}

/**
 * Read the record at `start` cell by cell (a quoted cell may have spaces or tabs around its quotes
 * and holds commas, line breaks and `""` for a quote), push its cells to `records`, and return
 * where it ends: at its line break, or the end of the text.
 */
function readQuoted(text: string, start: number, records: CsvRecord[]): number {
  const n = text.length;
  const fail = (what: string) => {
    const { what: where, field } = recordName(records.length);
    return badRequest(`${where}: ${what}`, field);
  };
  const cells: string[] = [];
  let i = start;
  for (;;) {
    let j = i;
    while (j < n && (text[j] === ' ' || text[j] === '\t')) j++;
    if (j < n && text[j] === '"') {
      let value = '';
      let k = j + 1;
      for (;;) {
        const close = text.indexOf('"', k);
        if (close < 0) throw fail('a quoted cell has no closing quote');
        value += text.slice(k, close);
        if (text[close + 1] !== '"') {
          k = close + 1;
          break;
        }
        value += '"';
        k = close + 2;
      }
      while (k < n && (text[k] === ' ' || text[k] === '\t')) k++;
      if (k < n && text[k] !== ',' && text[k] !== '\n' && text[k] !== '\r') {
        throw fail(`text after the closing quote of a quoted cell (${quote(text.slice(k, k + 20))}); a quote inside a quoted cell is written ""`);
      }
      cells.push(value);
      i = k;
    } else {
      let k = i;
      for (; k < n; k++) {
        const c = text.charCodeAt(k);
        if (c === 44 || c === 10 || c === 13) break; // , \n \r
      }
      cells.push(text.slice(i, k));
      i = k;
    }
    if (i < n && text[i] === ',') {
      i++;
      continue;
    }
    records.push(cells);
    return i;
  }
}

export function parseCurveCsv(text: string): PointColumns {
  const records = csvRecords(text.replace(/^\uFEFF/, ''));
  if (records.length === 0) throw badRequest('the CSV is empty: it needs a header step,lr,loss and points', 'body');
  const headerCells = cellsOf(records[0]!);
  const headerText = headerCells.join(',');
  const header = headerCells.map((h) => h.trim().toLowerCase());
  const col = (name: string) => header.indexOf(name);
  const stepCol = col('step');
  const lossCol = col('loss');
  const lrCol = col('lr');
  if (stepCol < 0 || lossCol < 0) {
    throw badRequest(`the CSV header must name columns step and loss (and optionally lr), got ${quote(headerText)}`, 'header');
  }
  for (const name of ['step', 'loss', 'lr']) {
    if (header.indexOf(name) !== header.lastIndexOf(name)) {
      throw badRequest(`the CSV header names column ${name} more than once: ${quote(headerText)}`, 'header');
    }
  }
  const rows = records.length - 1;
  if (rows > MAX_POINTS) throw badRequest(`${rows} points is over the limit of ${MAX_POINTS}`, 'points');
  const steps = new Float64Array(rows);
  const losses = new Float64Array(rows);
  const lrs = lrCol >= 0 ? new Float64Array(rows) : null;
  for (let i = 0; i < rows; i++) {
    const cells = cellsOf(records[i + 1]!);
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
