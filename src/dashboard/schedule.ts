/**
 * The what-if form's schedule: its state, the spec string for it and back, its run shape (the
 * baselines, GET /baselines, are asked for it) and the piecewise knots' limits. The grammar itself (families, keys, canonical form) is the
 * server's, src/schedule/grammar.ts, bundled as is; the server stays the judge of validity (its
 * problem+json says which key is wrong). `expr` specs are only assembled and split here, never
 * evaluated: the server checks and expands f (mathjs stays out of the browser bundle).
 */
import { formatFields, formatSchedule, parseSpecText, ScheduleError, WSD_SHAPES, type Family } from '../schedule/grammar.js';

export { ScheduleError, WSD_SHAPES, type Family };

/** The families in the order the form offers them. */
export const FAMILIES: readonly Family[] = ['cosine', 'wsd', 'linear', 'constant', 'step', 'piecewise', 'expr'];

/** Form values as typed (strings), plus the piecewise knots as numbers. */
export interface ScheduleState {
  family: Family;
  total: string;
  peak: string;
  warmup: string;
  final: string;
  decayStart: string;
  shape: string;
  at: string;
  to: string;
  /** expr: the expression, and its named constants as `name=value,...`. */
  f: string;
  consts: string;
  knots: [number, number][];
}

export const DEFAULT_STATE: ScheduleState = {
  family: 'cosine',
  total: '24000',
  peak: '3e-4',
  warmup: '2160',
  final: '3e-5',
  decayStart: '19200',
  shape: 'linear',
  at: '8000;12000',
  to: '9e-5;3e-5',
  f: 'final + (peak-final)*(1-(s-warmup)/(total-warmup))^2',
  consts: 'final=3e-5',
  knots: [],
};

/** Shortest readable form of an lr or step value. */
export function num(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(4)));
}

/** The spec string for the form state: the values as typed, in the grammar's canonical form. */
export function formatSpec(s: ScheduleState): string {
  if (s.family === 'piecewise') {
    const knots = s.knots.map(([step]) => step);
    // Knot values as they are: a dragged or derived knot is rounded where it is made (clampKnotLr,
    // knotsFrom), and a spec read from a link (an optimized schedule) keeps its exact values.
    const values = s.knots.map(([, lr]) => lr);
    return formatSchedule({ family: 'piecewise', knots, values, total: (knots[knots.length - 1] ?? 0) + 1 });
  }
  const { peak, total, warmup } = s;
  if (s.family === 'expr') {
    // The constants as typed `name=value,...`; a part without `=` is sent as `name=` for the server to name.
    const consts: Record<string, string> = {};
    for (const part of s.consts.split(',')) {
      if (part.trim() === '') continue;
      const eq = part.indexOf('=');
      consts[(eq < 0 ? part : part.slice(0, eq)).trim()] = eq < 0 ? '' : part.slice(eq + 1);
    }
    return formatFields('expr', { ...consts, peak, total, warmup, f: s.f });
  }
  return formatFields(s.family, { peak, total, warmup, final: s.final, decayStart: s.decayStart, shape: s.shape, at: s.at, to: s.to });
}

/** Read a spec string into a form state; throws the grammar's ScheduleError (with its key) if it is not valid. */
export function parseSpec(text: string, into: ScheduleState): ScheduleState {
  const spec = parseSpecText(text);
  const next: ScheduleState = { ...into, family: spec.family, knots: [...into.knots] };
  if (spec.family === 'piecewise') {
    next.knots = spec.knots.map((step, i) => [step, spec.values[i]!]);
    next.total = String(spec.total);
    return next;
  }
  Object.assign(next, { peak: String(spec.peak), total: String(spec.total), warmup: String(spec.warmup) });
  switch (spec.family) {
    case 'cosine':
    case 'linear':
      next.final = String(spec.final);
      break;
    case 'wsd':
      Object.assign(next, { decayStart: String(spec.decayStart), final: String(spec.final), shape: spec.shape });
      break;
    case 'step':
      Object.assign(next, { at: spec.at.join(';'), to: spec.to.join(';') });
      break;
    case 'expr':
      next.f = spec.f;
      next.consts = Object.entries(spec.consts).map(([k, v]) => `${k}=${v}`).join(',');
      break;
  }
  return next;
}

/** Run shape shared by the baselines: total steps, peak lr, warmup steps. */
export interface RunShape {
  total: number;
  peak: number;
  warmup: number;
}

/**
 * The run a schedule belongs to. A piecewise schedule keeps the run's peak and warmup from the form
 * (its knots are capped at that peak: see clampKnotLr), so dragging a knot never redefines them; its
 * length is its last knot + 1.
 */
export function runShape(s: ScheduleState): RunShape {
  if (s.family === 'piecewise' && s.knots.length) {
    const total = s.knots[s.knots.length - 1]![0] + 1;
    const peak = Number(s.peak) > 0 ? Number(s.peak) : Math.max(...s.knots.map((k) => k[1]));
    return { total, peak, warmup: Math.min(Number(s.warmup) || 0, Math.max(0, total - 2)) };
  }
  return { total: Number(s.total), peak: Number(s.peak), warmup: Number(s.warmup) };
}

/** A knot's lr as dragged: between 0 and the run's peak (3 significant digits). */
export function clampKnotLr(lr: number, s: ScheduleState): { lr: number; clamped: boolean } {
  const peak = runShape(s).peak;
  const rounded = Math.max(0, Number(lr.toPrecision(3)));
  return rounded > peak ? { lr: peak, clamped: true } : { lr: rounded, clamped: false };
}

/**
 * A piecewise spec read as text (typed, or from a link) defines its own run: its highest knot is the
 * peak and the step after the first knot there ends the warmup. The caller says so when that changes
 * the peak (an explicit change, never a silent one).
 */
export function piecewiseRun(s: ScheduleState): { peak: string; warmup: string } {
  const peak = Math.max(...s.knots.map((k) => k[1]));
  const first = s.knots.find((k) => k[1] === peak)!;
  return { peak: num(peak), warmup: String(first[0] + 1) };
}

/** Knots that follow a sampled schedule: warmup ramp, then `n` points over the decay. */
export function knotsFrom(steps: number[], lrs: number[], r: RunShape, n = 6): [number, number][] {
  const at = (step: number) => {
    let i = 0;
    while (i + 1 < steps.length && steps[i + 1]! <= step) i++;
    if (i + 1 >= steps.length) return lrs[lrs.length - 1] ?? r.peak;
    const t = (step - steps[i]!) / (steps[i + 1]! - steps[i]!);
    return lrs[i]! + t * (lrs[i + 1]! - lrs[i]!);
  };
  const knots: [number, number][] = [[0, 0]];
  const start = Math.max(1, r.warmup - 1);
  knots.push([start, r.peak]);
  for (let k = 1; k <= n; k++) {
    const step = Math.round(start + ((r.total - 1 - start) * k) / n);
    knots.push([step, Number(num(at(step)))]);
  }
  return knots;
}
