/**
 * Client side of the schedule grammar: the form state of a schedule, its spec string,
 * reading a spec back into the form, and the cosine / WSD baselines for a run length.
 * The server stays the judge of validity (its problem+json says which key is wrong). `expr` specs
 * (a user expression f in the step s) are only assembled and split here, never evaluated: the
 * server parses, checks and expands them (mathjs stays out of the browser bundle).
 */

export type Family = 'constant' | 'cosine' | 'linear' | 'wsd' | 'step' | 'piecewise' | 'expr';
export const FAMILIES: Family[] = ['cosine', 'wsd', 'linear', 'constant', 'step', 'piecewise', 'expr'];
export const WSD_SHAPES = ['exp', 'linear', 'cosine', 'sqrt'] as const;

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

/** The spec string for the form state. */
export function formatSpec(s: ScheduleState): string {
  const t = (v: string) => v.trim();
  const base = `peak=${t(s.peak)},total=${t(s.total)},warmup=${t(s.warmup)}`;
  switch (s.family) {
    case 'constant':
      return `constant:${base}`;
    case 'cosine':
    case 'linear':
      return `${s.family}:${base},final=${t(s.final)}`;
    case 'wsd':
      return `wsd:${base},decayStart=${t(s.decayStart)},final=${t(s.final)},shape=${s.shape}`;
    case 'step':
      return `step:${base},at=${t(s.at)},to=${t(s.to)}`;
    case 'piecewise':
      return `piecewise:${s.knots.map(([step, lr]) => `${step}=${num(lr)}`).join(';')}`;
    case 'expr': {
      // f last: it takes the rest of the spec, commas included.
      const consts = s.consts
        .split(',')
        .map((c) => c.trim())
        .filter(Boolean)
        .map((c) => `,${c}`)
        .join('');
      return `expr:total=${t(s.total)},warmup=${t(s.warmup)},peak=${t(s.peak)}${consts},f=${t(s.f)}`;
    }
  }
}

/** Read a spec string into a form state (unknown keys ignored); null if the family is unknown. */
export function parseSpec(spec: string, into: ScheduleState): ScheduleState | null {
  const m = /^\s*([a-z]+)\s*:(.*)$/i.exec(spec);
  if (!m) return null;
  const family = m[1]!.toLowerCase() as Family;
  if (!FAMILIES.includes(family)) return null;
  const next: ScheduleState = { ...into, family, knots: [...into.knots] };
  if (family === 'piecewise') {
    const knots = m[2]!.split(';').map((kv) => kv.split('=').map((x) => Number(x.trim())) as [number, number]);
    if (knots.some((k) => k.length !== 2 || !k.every(Number.isFinite))) return null;
    next.knots = knots;
    next.total = String(knots[knots.length - 1]![0] + 1);
    return next;
  }
  if (family === 'expr') {
    // Everything after the first `f=` key is the expression; the other keys before it.
    const fAt = /(^|,)\s*f\s*=/.exec(m[2]!);
    if (!fAt) return null;
    next.f = m[2]!.slice(fAt.index + fAt[0].length).trim();
    const consts: string[] = [];
    for (const part of m[2]!.slice(0, fAt.index).split(',')) {
      const eq = part.indexOf('=');
      if (eq < 0) continue;
      const k = part.slice(0, eq).trim();
      const v = part.slice(eq + 1).trim();
      if (k === 'total' || k === 'peak' || k === 'warmup') next[k] = v;
      else if (k) consts.push(`${k}=${v}`);
    }
    next.consts = consts.join(',');
    if (!/(^|,)\s*warmup\s*=/.test(m[2]!.slice(0, fAt.index))) next.warmup = '0';
    return next;
  }
  for (const part of m[2]!.split(',')) {
    const [k, v] = part.split('=').map((x) => x.trim());
    if (!k || v === undefined) continue;
    if (k in next && k !== 'family' && k !== 'knots') (next as unknown as Record<string, string>)[k] = v;
  }
  return next;
}

/** Run shape shared by the baselines: total steps, peak lr, warmup steps. */
export interface RunShape {
  total: number;
  peak: number;
  warmup: number;
}

export function runShape(s: ScheduleState): RunShape {
  if (s.family === 'piecewise' && s.knots.length) {
    const peak = Math.max(...s.knots.map((k) => k[1]));
    const peakKnot = s.knots.find((k) => k[1] === peak)!;
    return { total: s.knots[s.knots.length - 1]![0] + 1, peak, warmup: peakKnot[0] + 1 };
  }
  return { total: Number(s.total), peak: Number(s.peak), warmup: Number(s.warmup) };
}

/** Cosine to peak/10, the usual baseline. */
export const cosineBaseline = (r: RunShape) => `cosine:peak=${num(r.peak)},total=${r.total},warmup=${r.warmup},final=${num(r.peak / 10)}`;
/** WSD: stable until 80% of the run, then a linear cooldown to peak/10 (Hägele et al. 2024). */
export const wsdBaseline = (r: RunShape) =>
  `wsd:peak=${num(r.peak)},total=${r.total},warmup=${r.warmup},decayStart=${Math.max(r.warmup, Math.round(r.total * 0.8))},final=${num(r.peak / 10)},shape=linear`;

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
    knots.push([step, at(step)]);
  }
  return knots;
}
