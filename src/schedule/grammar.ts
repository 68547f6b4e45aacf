/**
 * Schedule spec grammar: `family:key=value,key=value`. Browser-safe (no mathjs, no node:
 * modules): the dashboard bundles it. The server's parseSchedule (spec.ts) is parseSpecText
 * plus the check of an `expr` spec's f (expr.ts, mathjs).
 *
 * Families: constant, cosine, linear, wsd, step, piecewise, expr. A parsed spec is a plain
 * object; `expandSchedule` (expand.ts) turns it into per-step learning rates.
 * Every problem is a ScheduleError naming the key that is wrong, so routes can answer
 * 400 with the offending field.
 */

import { ScheduleError } from './error.js';
import { RESERVED_NAMES } from './names.js';
import { clip } from '../errors.js';

export const MAX_TOTAL_STEPS = 10_000_000;

export { ScheduleError };

export type WsdShape = 'exp' | 'linear' | 'cosine' | 'sqrt';
export const WSD_SHAPES: readonly WsdShape[] = ['exp', 'linear', 'cosine', 'sqrt'];

interface Base {
  peak: number;
  total: number;
  warmup: number;
}
export interface ConstantSpec extends Base { family: 'constant' }
export interface CosineSpec extends Base { family: 'cosine'; final: number }
export interface LinearSpec extends Base { family: 'linear'; final: number }
export interface WsdSpec extends Base { family: 'wsd'; decayStart: number; final: number; shape: WsdShape }
export interface StepSpec extends Base { family: 'step'; at: number[]; to: number[] }
export interface PiecewiseSpec { family: 'piecewise'; knots: number[]; values: number[]; total: number }
/**
 * A user-defined schedule: `f` (an expression in the step `s`, see expr.ts) gives the lr from step
 * `warmup` on; the warmup before it is the usual linear one up to `peak`. `consts` holds the
 * spec's other keys (named constants usable in f besides peak, total and warmup), by name.
 */
export interface ExprSpec extends Base { family: 'expr'; f: string; consts: Record<string, number> }

export type ScheduleSpec = ConstantSpec | CosineSpec | LinearSpec | WsdSpec | StepSpec | PiecewiseSpec | ExprSpec;
export type Family = ScheduleSpec['family'];
export const FAMILIES: readonly Family[] = ['constant', 'cosine', 'linear', 'wsd', 'step', 'piecewise', 'expr'];

/** At most this many user constants in an expr spec. */
export const MAX_EXPR_CONSTS = 32;

/** Keys each family accepts; the first ones listed are required. */
const FAMILY_KEYS: Record<Exclude<Family, 'piecewise' | 'expr'>, { required: string[]; optional: string[] }> = {
  constant: { required: ['peak', 'total'], optional: ['warmup'] },
  cosine: { required: ['peak', 'total'], optional: ['warmup', 'final'] },
  linear: { required: ['peak', 'total'], optional: ['warmup', 'final'] },
  wsd: { required: ['peak', 'total', 'decayStart'], optional: ['warmup', 'final', 'shape'] },
  step: { required: ['peak', 'total', 'at', 'to'], optional: ['warmup'] },
};

/** A decimal number, optionally with an exponent: no hex/binary/octal, Infinity or empty text (which Number() takes). */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** `key` names the value in the message; `field` is the spec key at fault (a knot's is `knots`). -0 is 0 (the canonical form writes 0). */
function parseNumber(raw: string, key: string, field = key): number {
  const text = raw.trim();
  const value = DECIMAL.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(value)) throw new ScheduleError(`${clip(key)}=${clip(raw)} is not a finite decimal number`, field);
  return value + 0;
}

function parseStep(raw: string, key: string, field = key): number {
  const value = parseNumber(raw, key, field);
  if (!Number.isInteger(value) || value < 0) throw new ScheduleError(`${clip(key)}=${clip(raw)} must be a non-negative integer step`, field);
  return value;
}

function parseLr(raw: string, key: string, field = key): number {
  const value = parseNumber(raw, key, field);
  if (value < 0) throw new ScheduleError(`${clip(key)}=${clip(raw)}: learning rates must be >= 0`, field);
  return value;
}

function parseTotal(raw: string): number {
  const total = parseStep(raw, 'total');
  if (total < 1) throw new ScheduleError('total must be at least 1 step', 'total');
  if (total > MAX_TOTAL_STEPS) throw new ScheduleError(`total=${total} is over the limit of ${MAX_TOTAL_STEPS} steps`, 'total');
  return total;
}

function parsePiecewise(body: string): PiecewiseSpec {
  const knots: number[] = [];
  const values: number[] = [];
  for (const part of body.split(';')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) throw new ScheduleError(`piecewise knot "${clip(part)}" must be step=lr`, 'knots');
    const step = parseStep(part.slice(0, eq), `knot ${part.slice(0, eq).trim()}`, 'knots');
    const lr = parseLr(part.slice(eq + 1), `lr at step ${step}`, 'knots');
    if (knots.length > 0 && step <= knots[knots.length - 1]!) {
      throw new ScheduleError(`piecewise knots must be strictly increasing: ${step} follows ${knots[knots.length - 1]}`, 'knots');
    }
    knots.push(step);
    values.push(lr);
  }
  if (knots.length === 0) throw new ScheduleError('piecewise needs at least one knot step=lr', 'knots');
  if (knots[0] !== 0) throw new ScheduleError(`piecewise must start with a knot at step 0, not ${knots[0]}`, 'knots');
  const total = knots[knots.length - 1]! + 1;
  if (total > MAX_TOTAL_STEPS) throw new ScheduleError(`total=${total} is over the limit of ${MAX_TOTAL_STEPS} steps`, 'total');
  return { family: 'piecewise', knots, values, total };
}

/** The names f may use for the spec's keys, with their values. */
export function exprNames(spec: Pick<ExprSpec, 'peak' | 'total' | 'warmup' | 'consts'>): Map<string, number> {
  return new Map([['peak', spec.peak], ['total', spec.total], ['warmup', spec.warmup], ...Object.entries(spec.consts)]);
}

/**
 * `expr:total=T,warmup=W,peak=P,name=value,...,f=EXPR`: `f` must be the last key and takes the
 * rest of the spec verbatim (commas, `=` and `;` included), so `max(a,b)` or `s == 0` need no
 * escaping. The other keys are numbers; besides total, peak (required) and warmup (default 0),
 * any identifier not reserved (RESERVED_NAMES) is a named constant usable in f.
 */
function parseExpr(body: string): ExprSpec {
  const raw = new Map<string, string>();
  let f: string | undefined;
  let rest = body;
  while (rest.length > 0) {
    const comma = rest.indexOf(',');
    const part = comma < 0 ? rest : rest.slice(0, comma);
    const eq = part.indexOf('=');
    const key = (eq < 0 ? part : part.slice(0, eq)).trim();
    if (eq >= 0 && key === 'f') {
      // f takes everything after `f=`, commas included.
      f = rest.slice(rest.indexOf('=') + 1).trim();
      break;
    }
    rest = comma < 0 ? '' : rest.slice(comma + 1);
    if (part.trim() === '') continue;
    if (eq < 0) throw new ScheduleError(`"${clip(part.trim())}" must be key=value`, part.trim());
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(key)) throw new ScheduleError(`"${clip(key)}" is not a key name (letters, digits and _, starting with a letter)`, key || 'schedule');
    if (RESERVED_NAMES.has(key)) throw new ScheduleError(`"${clip(key)}" is reserved in expr specs (the step s, f, pi, e, mathjs words and the functions), pick another name`, key);
    if (raw.has(key)) throw new ScheduleError(`key "${key}" is given twice`, key);
    raw.set(key, part.slice(eq + 1));
  }
  if (f === undefined) throw new ScheduleError('expr needs key "f" (the last key: f=expression in s, taking the rest of the spec)', 'f');
  for (const key of ['peak', 'total']) {
    if (raw.has(key)) continue;
    const late = new RegExp(`,\\s*${key}\\s*=`).test(f) ? ` (f must be the last key: it takes the rest of the spec, here "${clip(f)}")` : '';
    throw new ScheduleError(`expr needs key "${key}"${late}`, key);
  }
  const total = parseTotal(raw.get('total')!);
  const peak = parseLr(raw.get('peak')!, 'peak');
  const warmup = raw.has('warmup') ? parseStep(raw.get('warmup')!, 'warmup') : 0;
  if (warmup >= total) throw new ScheduleError(`warmup=${warmup} must be shorter than total=${total}`, 'warmup');
  const consts: Record<string, number> = {};
  const names = [...raw.keys()].filter((k) => k !== 'peak' && k !== 'total' && k !== 'warmup').sort();
  if (names.length > MAX_EXPR_CONSTS) throw new ScheduleError(`expr takes at most ${MAX_EXPR_CONSTS} constants besides peak, total and warmup, not ${names.length}`, 'schedule');
  for (const name of names) consts[name] = parseNumber(raw.get(name)!, name);
  return { family: 'expr', peak, total, warmup, consts, f };
}

/**
 * Parse a schedule spec string; throws ScheduleError with the offending key. An `expr` spec's
 * keys are checked, its f is kept as written, unchecked: spec.ts's parseSchedule checks it too.
 */
export function parseSpecText(input: string): ScheduleSpec {
  if (typeof input !== 'string' || input.trim() === '') throw new ScheduleError('schedule spec is empty');
  const text = input.trim();
  const colon = text.indexOf(':');
  if (colon < 0) throw new ScheduleError(`schedule "${clip(text)}" must look like family:key=value,... (families: ${FAMILIES.join(', ')})`);
  const family = text.slice(0, colon).trim().toLowerCase();
  const body = text.slice(colon + 1);
  if (family === 'piecewise') return parsePiecewise(body);
  if (family === 'expr') return parseExpr(body);
  // Own keys only: `constructor`, `toString`... are in every object, and no family.
  if (!Object.hasOwn(FAMILY_KEYS, family)) {
    throw new ScheduleError(`unknown schedule family "${clip(family)}" (known: ${FAMILIES.join(', ')})`, 'family');
  }
  const allowed = FAMILY_KEYS[family as keyof typeof FAMILY_KEYS];
  const raw = new Map<string, string>();
  for (const part of body.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) throw new ScheduleError(`"${clip(part.trim())}" must be key=value`, part.trim());
    const key = part.slice(0, eq).trim();
    if (!allowed.required.includes(key) && !allowed.optional.includes(key)) {
      throw new ScheduleError(`unknown key "${clip(key)}" for ${family} (keys: ${[...allowed.required, ...allowed.optional].join(', ')})`, key);
    }
    if (raw.has(key)) throw new ScheduleError(`key "${key}" is given twice`, key);
    raw.set(key, part.slice(eq + 1));
  }
  for (const key of allowed.required) {
    if (!raw.has(key)) throw new ScheduleError(`${family} needs key "${key}"`, key);
  }

  const total = parseTotal(raw.get('total')!);
  const peak = parseLr(raw.get('peak')!, 'peak');
  const warmup = raw.has('warmup') ? parseStep(raw.get('warmup')!, 'warmup') : 0;
  if (warmup >= total) throw new ScheduleError(`warmup=${warmup} must be shorter than total=${total}`, 'warmup');
  const base = { peak, total, warmup };
  const final = raw.has('final') ? parseLr(raw.get('final')!, 'final') : 0;

  switch (family) {
    case 'constant':
      return { family, ...base };
    case 'cosine':
    case 'linear':
      return { family, ...base, final };
    case 'wsd': {
      const decayStart = parseStep(raw.get('decayStart')!, 'decayStart');
      if (decayStart < warmup || decayStart >= total) {
        throw new ScheduleError(`decayStart=${decayStart} must lie in the run after warmup: ${warmup} <= decayStart < ${total}`, 'decayStart');
      }
      const shape = (raw.get('shape') ?? 'exp').trim() as WsdShape;
      if (!WSD_SHAPES.includes(shape)) throw new ScheduleError(`shape "${clip(shape)}" is not one of ${WSD_SHAPES.join(', ')}`, 'shape');
      if (shape === 'exp' && final === 0) throw new ScheduleError('shape=exp needs final > 0 (an exponential decay never reaches 0)', 'final');
      return { family, ...base, decayStart, final, shape };
    }
    case 'step': {
      const at = raw.get('at')!.split(';').map((v) => parseStep(v, 'at'));
      const to = raw.get('to')!.split(';').map((v) => parseLr(v, 'to'));
      if (at.length !== to.length) throw new ScheduleError(`step needs as many "to" values (${to.length}) as "at" steps (${at.length})`, 'to');
      for (let i = 0; i < at.length; i++) {
        if (at[i]! < warmup || at[i]! >= total) throw new ScheduleError(`at=${at[i]} must lie in the run after warmup: ${warmup} <= at < ${total}`, 'at');
        if (i > 0 && at[i]! <= at[i - 1]!) throw new ScheduleError('at steps must be strictly increasing', 'at');
      }
      return { family, ...base, at, to };
    }
  }
  throw new ScheduleError(`unknown schedule family "${family}"`, 'family');
}

/** Each family's keys in canonical order (an expr spec's constants follow, sorted, then f). */
const FORMAT_KEYS: Record<Exclude<Family, 'piecewise'>, readonly string[]> = {
  constant: ['peak', 'total', 'warmup'],
  cosine: ['peak', 'total', 'warmup', 'final'],
  linear: ['peak', 'total', 'warmup', 'final'],
  wsd: ['peak', 'total', 'warmup', 'decayStart', 'final', 'shape'],
  step: ['peak', 'total', 'warmup', 'at', 'to'],
  expr: ['peak', 'total', 'warmup'],
};

/**
 * The spec string for a family's keys as written (values trimmed, not checked): the canonical
 * key order, `;`-lists as given, piecewise's `knots` as `step=lr;...`. For expr, every key
 * besides peak, total, warmup and f is a constant (sorted), and f comes last. Keys the family
 * does not take are left out (except for expr, whose extra keys are its constants).
 */
export function formatFields(family: Family, fields: Readonly<Record<string, string>>): string {
  const value = (key: string) => (fields[key] ?? '').trim();
  if (family === 'piecewise') return `piecewise:${value('knots')}`;
  const keys = [...FORMAT_KEYS[family]];
  if (family === 'expr') keys.push(...Object.keys(fields).filter((k) => !keys.includes(k) && k !== 'f').sort(), 'f');
  return `${family}:${keys.map((k) => `${k}=${value(k)}`).join(',')}`;
}

/** The canonical spec string of a parsed schedule (parseSchedule(formatSchedule(s)) equals s). */
export function formatSchedule(spec: ScheduleSpec): string {
  switch (spec.family) {
    case 'piecewise':
      return formatFields('piecewise', { knots: spec.knots.map((k, i) => `${k}=${spec.values[i]!}`).join(';') });
    case 'step':
      return formatFields('step', { ...fieldsOf(spec), at: spec.at.join(';'), to: spec.to.join(';') });
    case 'expr':
      return formatFields('expr', { ...fieldsOf(spec), ...fieldsOf(spec.consts), f: spec.f });
    default:
      return formatFields(spec.family, fieldsOf(spec));
  }
}

/** The number and string values of an object, as strings. */
function fieldsOf(values: object): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) if (k !== 'family' && (typeof v === 'number' || typeof v === 'string')) out[k] = String(v);
  return out;
}
