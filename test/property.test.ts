/**
 * Property tests (issue 12, fast-check, fixed seed): random and hostile schedule specs, CSV uploads
 * and JSON curve bodies never give a 5xx or an uncaught error, are refused exactly when they break
 * a rule, and what is accepted round-trips exactly.
 *
 * - Specs, direct calls (10,000): parseSchedule throws nothing but ScheduleError; a spec built valid
 *   parses to the values written, one built invalid is refused; every accepted spec has
 *   parse(format(parse(x))) = parse(x), a canonical form that is a fixed point, and expands to
 *   `total` finite lrs >= 0 (an expr spec may instead be refused on `f` when expanded).
 * - Specs over HTTP, GET /schedules/expand (10,000): 200 exactly when the direct calls accept, else
 *   a 400 problem on a `schedule` field; the answer is the canonical spec and the expanded lrs.
 * - CSV and JSON uploads, direct calls of what POST /curves runs (10,000 each): accepted exactly
 *   when a model of the upload rules (written here from the README and the API contract) says so,
 *   refused with a 400 HttpProblem naming a field otherwise, and the curve to store holds the
 *   values written, bit for bit. parseCurveCsv on arbitrary text (10,000): columns or a 400.
 * - CSV and JSON uploads over HTTP, POST /curves (10,000 each): 201 exactly when the
 *   model says so, else a 400 problem, never anything else; a stored curve reads back exactly
 *   (GET /curves/:id as JSON and as CSV: same steps, losses, lrs, name (trimmed), schedule,
 *   warmupSteps and meta; -0 reads back as 0, as JSON and CSV write it) and its per-step schedule
 *   (GET /curves/:id/schedule) is finite and >= 0.
 * Then plain regression tests for what the properties found, and CSV line ends and quoting.
 *
 * A failure prints fast-check's seed, path and shrunk counterexample. PROPERTY_SEED=<seed>,
 * PROPERTY_RUNS=<n> and PROPERTY_HTTP_RUNS=<n> rerun it otherwise (defaults: the fixed seed below,
 * 10,000 and 10,000).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { testApp } from './helpers.js';
import { expandSchedule } from '../src/schedule/expand.js';
import {
  FAMILIES,
  formatSchedule,
  MAX_TOTAL_STEPS,
  parseSchedule,
  ScheduleError,
  WSD_SHAPES,
  type ScheduleSpec,
} from '../src/schedule/spec.js';
import { EXPR_FUNCTION_NAMES, RESERVED_NAMES } from '../src/schedule/names.js';
import { parseCurveCsv } from '../src/curves/csv.js';
import { MAX_META_BYTES, MAX_META_DEPTH, pointsFromJson, prepareCurve } from '../src/curves/ingest.js';
import { parseJsonBody } from '../src/validation.js';
import { badRequest, HttpProblem } from '../src/errors.js';
import type { NewCurve } from '../src/store/types.js';

const SEED = Number(process.env.PROPERTY_SEED ?? 20_251_202);
const RUNS = Number(process.env.PROPERTY_RUNS ?? 10_000);
/**
 * Cases of the properties over HTTP (app.inject, SQLite, read-backs), 10,000 like the others by
 * default. Each upload costs 1.5-2 ms with the app's plugin stack, so the file takes about 45 s on a
 * 2-core machine; PROPERTY_HTTP_RUNS=<n> runs fewer (the direct-call properties keep their 10,000).
 */
const HTTP_RUNS = Number(process.env.PROPERTY_HTTP_RUNS ?? RUNS);
const params = { seed: SEED, numRuns: RUNS, includeErrorInReport: true };
const httpParams = { ...params, numRuns: HTTP_RUNS };

/** Specs longer than this are parsed and formatted but not expanded by the direct property (time). */
const EXPAND_LIMIT = 100_000;
/**
 * Specs longer than this go through the direct property only, not over HTTP: expanding and
 * answering a 10,000,000-step spec takes about a second (a plain test below sends one).
 */
const BIG_TOTAL = 200_000;

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

/** `value` with every -0 made 0 (JSON and CSV write -0 as 0). */
function canon<T>(value: T): T {
  if (typeof value === 'number') return (value === 0 ? 0 : value) as T;
  if (Array.isArray(value)) return value.map(canon) as T;
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) Object.defineProperty(out, k, { value: canon(v), enumerable: true, writable: true, configurable: true });
    return out as T;
  }
  return value;
}

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
/** Lone surrogates as U+FFFD, as UTF-8 encoding (and URLSearchParams) make them. */
const wellFormed = (text: string) => text.replace(/[\uD800-\uDFFF]/gu, '\uFFFD');

/** `arb` one time in `n`, else undefined. */
const rarely = <T>(arb: fc.Arbitrary<T>, n: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: n - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arb });
/** `arb`, undefined one time in `n`. */
const mostly = <T>(arb: fc.Arbitrary<T>, n: number): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 1, arbitrary: fc.constant(undefined) }, { weight: n - 1, arbitrary: arb });

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Nesting depth of objects and arrays (a scalar is 0, `{}` is 1). */
function depthOf(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    deepest = Math.max(deepest, d);
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return deepest;
}

/** A spec's total by the library, or 0 when it is refused. */
function specTotal(text: string): number {
  try {
    return parseSchedule(text).total;
  } catch (error) {
    if (!(error instanceof ScheduleError)) throw error;
    return 0;
  }
}

/** Per-step lrs of a spec by the library (the reference for the upload models), or null if refused. */
const specCache = new Map<string, Float64Array | null>();
function specLrs(text: string): Float64Array | null {
  if (!specCache.has(text)) {
    let lrs: Float64Array | null = null;
    try {
      lrs = expandSchedule(parseSchedule(text));
    } catch (error) {
      if (!(error instanceof ScheduleError)) throw error;
    }
    if (specCache.size > 5000) specCache.clear();
    specCache.set(text, lrs);
  }
  return specCache.get(text)!;
}

/** Characters for hostile text: CSV and spec punctuation, whitespace, a BOM, unicode, lone surrogates. */
const hostileChar = fc.oneof(
  { weight: 24, arbitrary: fc.constantFrom(',', ';', '=', ':', '"', "'", '.', 'e', 'E', '+', '-', '0', '1', '9', ' ', '\t', '\r', '\n', '\r\n', '\uFEFF', '\u00A0', '\u2028', '\u0000', '#', '(', ')', 'x', '_') },
  { weight: 12, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) },
);
const hostileText = (maxLength = 12) => fc.string({ unit: hostileChar, maxLength });
/** Like hostileText but without lone surrogates (for text sent as a body: UTF-8 would replace them). */
const wellFormedChar = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(',', ';', '=', '"', '.', 'e', '+', '-', '0', '1', ' ', '\t', '\r', '\n', '\uFEFF', '\u00A0', '\u0000', 'x') },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);

/** Apply one character-level corruption at a position given as a fraction of the length. */
function corrupt(text: string, kind: number, at: number, insert: string): string {
  const i = Math.floor(at * (text.length + 1));
  if (kind === 0) return text.slice(0, i) + insert + text.slice(i);
  if (kind === 1) return text.slice(0, i) + text.slice(i + 1);
  if (kind === 2) return text.slice(0, i) + insert + text.slice(i + 1);
  return text.slice(0, i); // truncated
}
const corruption = fc.record({ kind: fc.integer({ min: 0, max: 3 }), at: fc.double({ min: 0, max: 1, noNaN: true }), insert: fc.string({ unit: hostileChar, minLength: 1, maxLength: 3 }) });

// ---------------------------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------------------------

/** Text forms of a finite x >= 0 in the decimal grammar of specs and CSV cells, each exactly x. */
function decimalForms(x: number): string[] {
  const plain = String(x);
  const forms = [plain, x.toExponential(), x.toExponential().toUpperCase(), x.toPrecision(17), `+${plain}`];
  if (!plain.includes('e')) forms.push(`00${plain}`);
  if (Number.isInteger(x) && !plain.includes('e')) forms.push(`${plain}.`, `${plain}.0`);
  if (plain.startsWith('0.')) forms.push(plain.slice(1));
  return forms;
}
/** Text forms of a finite x in JSON's number grammar, each exactly x. */
function jsonForms(x: number): string[] {
  return [String(x), x.toExponential(), x.toExponential().toUpperCase(), x.toPrecision(17)];
}
const formOf = (forms: (x: number) => string[]) => (x: number) => fc.constantFrom(...forms(x));

/** Whitespace that JS trim() removes, as padding around spec values and CSV numbers. */
const pad = fc.constantFrom('', '', '', '', ' ', '  ', '\t', '\u00A0', ' \t');
const padded = (text: fc.Arbitrary<string>) => fc.tuple(pad, text, pad).map(([a, t, b]) => a + t + b);

/** Learning rates: typical ones, 0, subnormal, huge. */
const lrValue = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }).map((x) => x + 0) },
  { weight: 2, arbitrary: fc.constantFrom(0, 3e-4, 1e-3, 6e-4, 3e-5, 1, 0.1, 5e-324, 1e-300) },
  { weight: 1, arbitrary: fc.double({ min: 0, max: Number.MAX_VALUE, noNaN: true, noDefaultInfinity: true }).map((x) => x + 0) },
  { weight: 1, arbitrary: fc.constantFrom(1e308, Number.MAX_VALUE, 1.5e308) },
);
const positiveLr = lrValue.filter((x) => x > 0);
/** Losses: positive and finite, mostly typical. */
const lossValue = fc.oneof(
  { weight: 6, arbitrary: fc.double({ min: 1, max: 12, noNaN: true }) },
  { weight: 1, arbitrary: fc.double({ min: Number.MIN_VALUE, max: Number.MAX_VALUE, noNaN: true, noDefaultInfinity: true }) },
);

/** Tokens that are no decimal number at all (refused wherever a spec or CSV number is expected). */
const NOT_A_NUMBER = ['0x10', '0b1', '0o7', '1_000', '\uFF11', '\u0663', '1e', 'e1', '.', '+', '--1', '1..2', '1e1.5', 'true', 'null', 'NaN', 'nan', 'Infinity', '-Infinity', 'inf', '1e309', '-1e309', '1E400', '', ' '];
/** Tokens that are numbers, but odd ones (their acceptance depends on the slot). */
const ODD_NUMBER = ['-0', '+0', '-1', '1.5', '1e-400', '0', '4.9e-324', '1e7', '10000001', '9007199254740993'];

// ---------------------------------------------------------------------------------------------
// Schedule specs
// ---------------------------------------------------------------------------------------------

/** What a generated spec must do: parse to `spec`, be refused, or either (`unknown`). */
type SpecExpect =
  | { kind: 'valid'; spec: ScheduleSpec }
  /** Valid but for f, which the allowlist may refuse: then a ScheduleError on `f`. */
  | { kind: 'expr'; spec: ScheduleSpec }
  | { kind: 'invalid' }
  | { kind: 'unknown' };
interface SpecCase {
  text: string;
  expect: SpecExpect;
}

/** A spec's pieces before rendering: the family as written and its key=value pairs. */
interface SpecPlan {
  family: string;
  pairs: [string, string][];
  expect: SpecExpect;
  /** Keys each rendering must keep first or last: expr's f is last. */
  fLast: boolean;
  required: string[];
  numeric: string[];
}

const num = formOf(decimalForms);
const familyCase = (family: string) => fc.constantFrom(family, family.toUpperCase(), family[0]!.toUpperCase() + family.slice(1), ` ${family} `);

/** total (mostly small: the direct and HTTP properties expand each accepted spec). */
const totalValue = fc.oneof({ weight: 400, arbitrary: fc.integer({ min: 1, max: 3000 }) }, { weight: 1, arbitrary: fc.constantFrom(MAX_TOTAL_STEPS, 200_000) });

/** total and a warmup inside it (warmup absent half the time). */
const runShape = totalValue.chain((total) =>
  fc.record({ total: fc.constant(total), warmup: fc.option(fc.integer({ min: 0, max: total - 1 }), { nil: undefined }) }),
);

function basePlan(family: 'constant' | 'cosine' | 'linear'): fc.Arbitrary<SpecPlan> {
  return fc
    .record({ fam: familyCase(family), run: runShape, peak: lrValue, final: fc.option(lrValue, { nil: undefined }) })
    .chain(({ fam, run, peak, final }) =>
      fc
        .record({
          peak: num(peak),
          total: num(run.total),
          warmup: run.warmup === undefined ? fc.constant(undefined) : num(run.warmup),
          final: final === undefined || family === 'constant' ? fc.constant(undefined) : num(final),
        })
        .map((t) => {
          const pairs: [string, string][] = [['peak', t.peak], ['total', t.total]];
          if (t.warmup !== undefined) pairs.push(['warmup', t.warmup]);
          if (t.final !== undefined) pairs.push(['final', t.final]);
          const spec = { family, peak, total: run.total, warmup: run.warmup ?? 0, ...(family === 'constant' ? {} : { final: final ?? 0 }) } as ScheduleSpec;
          return { family: fam, pairs, expect: { kind: 'valid', spec }, fLast: false, required: ['peak', 'total'], numeric: pairs.map(([k]) => k) } satisfies SpecPlan;
        }),
    );
}

const wsdPlan: fc.Arbitrary<SpecPlan> = fc
  .record({ fam: familyCase('wsd'), run: runShape.filter((r) => r.total >= 1), peak: lrValue, shape: fc.option(fc.constantFrom(...WSD_SHAPES), { nil: undefined }) })
  .chain(({ fam, run, peak, shape }) => {
    const warmup = run.warmup ?? 0;
    const needsFinal = (shape ?? 'exp') === 'exp';
    return fc
      .record({
        decayStart: fc.integer({ min: warmup, max: run.total - 1 }),
        final: needsFinal ? positiveLr : fc.option(lrValue, { nil: undefined }),
      })
      .chain(({ decayStart, final }) =>
        fc
          .record({
            peak: num(peak),
            total: num(run.total),
            warmup: run.warmup === undefined ? fc.constant(undefined) : num(run.warmup),
            decayStart: num(decayStart),
            final: final === undefined ? fc.constant(undefined) : num(final),
            shape: shape === undefined ? fc.constant(undefined) : padded(fc.constant(shape)),
          })
          .map((t) => {
            const pairs: [string, string][] = [['peak', t.peak], ['total', t.total], ['decayStart', t.decayStart]];
            if (t.warmup !== undefined) pairs.push(['warmup', t.warmup]);
            if (t.final !== undefined) pairs.push(['final', t.final]);
            if (t.shape !== undefined) pairs.push(['shape', t.shape]);
            const spec: ScheduleSpec = { family: 'wsd', peak, total: run.total, warmup, decayStart, final: final ?? 0, shape: shape ?? 'exp' };
            return { family: fam, pairs, expect: { kind: 'valid', spec }, fLast: false, required: ['peak', 'total', 'decayStart'], numeric: ['peak', 'total', 'warmup', 'decayStart', 'final'] } satisfies SpecPlan;
          }),
      );
  });

const stepPlan: fc.Arbitrary<SpecPlan> = fc
  .record({ fam: familyCase('step'), run: runShape, peak: lrValue })
  .chain(({ fam, run, peak }) => {
    const warmup = run.warmup ?? 0;
    return fc
      .uniqueArray(fc.integer({ min: warmup, max: run.total - 1 }), { minLength: 1, maxLength: 4 })
      .map((at) => at.sort((a, b) => a - b))
      .chain((at) => fc.record({ at: fc.constant(at), to: fc.array(lrValue, { minLength: at.length, maxLength: at.length }) }))
      .chain(({ at, to }) =>
        fc
          .record({
            peak: num(peak),
            total: num(run.total),
            warmup: run.warmup === undefined ? fc.constant(undefined) : num(run.warmup),
            at: fc.tuple(...at.map((a) => padded(num(a)))).map((parts) => parts.join(';')),
            to: fc.tuple(...to.map((v) => padded(num(v)))).map((parts) => parts.join(';')),
          })
          .map((t) => {
            const pairs: [string, string][] = [['peak', t.peak], ['total', t.total], ['at', t.at], ['to', t.to]];
            if (t.warmup !== undefined) pairs.push(['warmup', t.warmup]);
            const spec: ScheduleSpec = { family: 'step', peak, total: run.total, warmup, at, to };
            return { family: fam, pairs, expect: { kind: 'valid', spec }, fLast: false, required: ['peak', 'total', 'at', 'to'], numeric: ['peak', 'total', 'warmup'] } satisfies SpecPlan;
          }),
      );
  });

/** piecewise: knots from 0, strictly increasing, rendered `step=lr;...` with stray `;` and spaces. */
const piecewiseCase: fc.Arbitrary<SpecCase> = fc
  .record({
    fam: familyCase('piecewise'),
    gaps: fc.array(fc.oneof({ weight: 300, arbitrary: fc.integer({ min: 1, max: 500 }) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 200_000 }) }), { maxLength: 6 }),
    values: fc.array(lrValue, { minLength: 7, maxLength: 7 }),
    extraSemicolons: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
  })
  .chain(({ fam, gaps, values, extraSemicolons }) => {
    const knots = [0];
    for (const g of gaps) knots.push(knots[knots.length - 1]! + g);
    const vals = values.slice(0, knots.length);
    return fc
      .tuple(...knots.map((k, i) => fc.tuple(padded(num(k)), padded(num(vals[i]!))).map(([a, b]) => `${a}=${b}`)))
      .map((parts) => {
        const body = parts.map((p, i) => (extraSemicolons[i] ? `;${p}` : p)).join(';') + (extraSemicolons[7] ? ';' : '');
        const spec: ScheduleSpec = { family: 'piecewise', knots, values: vals, total: knots[knots.length - 1]! + 1 };
        return { text: `${fam}:${body}`, expect: { kind: 'valid', spec } } satisfies SpecCase;
      });
  });

/** Identifiers for expr constants: plain ones, prototype-ish ones, mathjs-ish ones. */
const constName = fc.oneof(
  fc.constantFrom('a', 'b', 'final', 'k', 'lr_min', 'decay2', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype', 'i', 'E', 'PI', 'LN2', 'phi', 'end', 'F', 'S'),
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,6}$/),
).filter((name) => !RESERVED_NAMES.has(name) && !['peak', 'total', 'warmup'].includes(name));

/** f: random expressions over the allowed grammar, plus things the allowlist must refuse. */
function exprText(names: string[]): fc.Arbitrary<string> {
  const atom = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('s', 'pi', 'e', ...names) },
    { weight: 3, arbitrary: fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.double({ min: 0, max: 10, noNaN: true })).map(String) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '1e309', '0x10', 'Infinity', 'NaN', 'true', 'null', 'x', 'cm', '"str"', "'str'", '[1,2]', '{a:1}', 'a=1', 'g(x)=x', 'x.y', 's[1]', '1:3',
        "s'", 's!', '1;2', '1\n2', 'cos', '2 cm', '1 < 2 < 3', 'import("fs")', 'evaluate("1")', 'typed', 'parse', '#c', '?', ')', '@', 'i', 'f',
      ),
    },
    { weight: 1, arbitrary: hostileText(4) },
  );
  const { e } = fc.letrec<{ e: string }>((tie) => ({
    e: fc.oneof(
      { maxDepth: 4, depthIdentifier: 'expr', withCrossShrink: true },
      atom,
      fc.tuple(tie('e'), fc.constantFrom('+', '-', '*', '/', '^', '%', ' mod ', '<', '<=', '>', '>=', '==', '!=', ' and ', ' or ', ' xor ', ' ', '&', '|', '<<'), tie('e')).map(([a, op, b]) => `${a}${op}${b}`),
      tie('e').map((a) => `(${a})`),
      fc.tuple(fc.constantFrom('-', '+', 'not ', '~'), tie('e')).map(([op, a]) => `${op}${a}`),
      fc
        .tuple(fc.constantFrom(...EXPR_FUNCTION_NAMES, 'import', 'evaluate', 'sum', 'random', 'f'), fc.array(tie('e'), { maxLength: 3 }))
        .map(([f, args]) => `${f}(${args.join(', ')})`),
      fc.tuple(tie('e'), tie('e'), tie('e')).map(([c, a, b]) => `${c} ? ${a} : ${b}`),
    ),
  }));
  return e;
}

const exprPlan: fc.Arbitrary<SpecPlan> = fc
  .record({
    fam: familyCase('expr'),
    run: runShape.map((r) => ({ total: Math.min(r.total, 5000), warmup: r.warmup === undefined ? undefined : Math.min(r.warmup, Math.min(r.total, 5000) - 1) })),
    peak: lrValue,
    consts: fc.uniqueArray(fc.tuple(constName, fc.oneof(lrValue, fc.double({ min: -10, max: 10, noNaN: true }).map((x) => x + 0))), { maxLength: 4, selector: ([k]) => k }),
  })
  .chain(({ fam, run, peak, consts }) =>
    fc
      .record({
        peak: num(peak),
        total: num(run.total),
        warmup: run.warmup === undefined ? fc.constant(undefined) : num(run.warmup),
        consts: fc.tuple(...consts.map(([, v]) => (v < 0 ? fc.constantFrom(String(v), v.toExponential()) : num(v)))),
        f: fc.tuple(pad, exprText(['peak', 'total', 'warmup', ...consts.map(([k]) => k)]), pad).map(([a, t, b]) => a + t + b),
      })
      .map((t) => {
        const pairs: [string, string][] = [['peak', t.peak], ['total', t.total]];
        if (t.warmup !== undefined) pairs.push(['warmup', t.warmup]);
        consts.forEach(([k], i) => pairs.push([k, t.consts[i]!]));
        pairs.push(['f', t.f]);
        const constValues: Record<string, number> = {};
        for (const [k, v] of consts) Object.defineProperty(constValues, k, { value: v, enumerable: true, writable: true, configurable: true });
        const spec: ScheduleSpec = { family: 'expr', peak, total: run.total, warmup: run.warmup ?? 0, consts: constValues, f: t.f.trim() };
        return { family: fam, pairs, expect: { kind: 'expr', spec }, fLast: true, required: ['peak', 'total', 'f'], numeric: pairs.map(([k]) => k).filter((k) => k !== 'f') } satisfies SpecPlan;
      }),
  );

/** Render a plan: keys in random order (f last), spaces around keys and values, stray commas. */
function renderPlan(plan: SpecPlan): fc.Arbitrary<string> {
  const movable = plan.fLast ? plan.pairs.slice(0, -1) : plan.pairs;
  return fc
    .record({
      order: fc.shuffledSubarray(movable, { minLength: movable.length, maxLength: movable.length }),
      pads: fc.array(fc.tuple(pad, pad), { minLength: plan.pairs.length, maxLength: plan.pairs.length }),
      strayComma: fc.boolean(),
      outer: fc.tuple(pad, pad),
    })
    .map(({ order, pads, strayComma, outer }) => {
      const pairs = plan.fLast ? [...order, plan.pairs[plan.pairs.length - 1]!] : order;
      const parts = pairs.map(([k, v], i) => (k === 'f' ? `${pads[i]![0]}f=${v}` : `${pads[i]![0]}${k}${pads[i]![1]}=${v}`));
      const body = (strayComma && !plan.fLast ? ',' : '') + parts.join(',') + (strayComma && !plan.fLast ? ',' : '');
      return `${outer[0]}${plan.family}:${body}${plan.fLast ? '' : outer[1]}`;
    });
}

/** Break a plan in a way the rules refuse (or, for odd-but-numeric values, may accept). */
function mutatePlan(plan: SpecPlan): fc.Arbitrary<SpecPlan> {
  const invalid = { kind: 'invalid' } as const;
  const options: fc.Arbitrary<SpecPlan>[] = [
    // a required key dropped
    fc.constantFrom(...plan.required).map((key) => ({ ...plan, pairs: plan.pairs.filter(([k]) => k !== key), expect: invalid })),
    // a numeric value replaced by something that is no number
    fc.tuple(fc.constantFrom(...plan.numeric), fc.constantFrom(...NOT_A_NUMBER)).map(([key, token]) => ({
      ...plan,
      pairs: plan.pairs.map(([k, v]): [string, string] => [k, k === key ? token : v]),
      expect: plan.pairs.some(([k]) => k === key) ? invalid : plan.expect,
    })),
    // ... or by an odd number: accepted or not, but never a crash
    fc.tuple(fc.constantFrom(...plan.numeric), fc.constantFrom(...ODD_NUMBER)).map(([key, token]) => ({
      ...plan,
      pairs: plan.pairs.map(([k, v]): [string, string] => [k, k === key ? token : v]),
      expect: { kind: 'unknown' } as const,
    })),
    // an unknown family
    fc.constantFrom('cosinus', 'exp', '', 'wsd2', 'piece wise', '__proto__', 'constructor', 'toString').map((family) => ({ ...plan, family, expect: invalid })),
  ];
  const moving = plan.fLast ? plan.pairs.slice(0, -1) : plan.pairs;
  if (moving.length > 0) {
    // a key given twice
    options.push(fc.constantFrom(...moving).map((pair) => ({ ...plan, pairs: [pair, ...plan.pairs], expect: invalid })));
  }
  if (!plan.fLast) {
    // a key the family does not take
    options.push(fc.constantFrom('peek', 'Peak', 'lr', 'steps', '__proto__', 'constructor', 'f', 'at').filter((k) => !plan.pairs.some(([p]) => p === k) && !(plan.required.includes(k))).map((key) => ({ ...plan, pairs: [[key, '1'] as [string, string], ...plan.pairs], expect: invalid })));
  } else {
    // a reserved or malformed constant name
    options.push(fc.constantFrom('s', 'pi', 'e', 'mod', 'sqrt', 'NaN', 'true', '1x', '_a', '__proto__', 'a-b', 'a b', '').map((key) => ({ ...plan, pairs: [[key, '1'] as [string, string], ...plan.pairs], expect: invalid })));
  }
  return fc.oneof(...options);
}

/** warmup >= total, or wsd/step keys outside the run: refused. */
const outOfRunCase: fc.Arbitrary<SpecCase> = fc
  .record({ total: fc.integer({ min: 1, max: 100 }), over: fc.integer({ min: 0, max: 50 }), which: fc.integer({ min: 0, max: 5 }) })
  .map(({ total, over, which }) => {
    const texts = [
      `cosine:peak=1e-3,total=${total},warmup=${total + over}`,
      `wsd:peak=1e-3,total=${total},decayStart=${total + over},final=1e-5`,
      `step:peak=1e-3,total=${total},at=${total + over},to=1e-4`,
      `piecewise:0=1;${over}=2;${over}=3`,
      `expr:peak=1,total=${total},warmup=${total + over},f=1`,
      `linear:peak=1,total=${MAX_TOTAL_STEPS + 1 + over}`,
    ];
    return { text: texts[which]!, expect: { kind: 'invalid' } as const };
  });

const planCase = fc.oneof(basePlan('constant'), basePlan('cosine'), basePlan('linear'), wsdPlan, stepPlan, exprPlan);

/** Every kind of spec text: valid, broken on purpose, corrupted, random. */
const specCase: fc.Arbitrary<SpecCase> = fc.oneof(
  { weight: 8, arbitrary: planCase.chain((plan) => renderPlan(plan).map((text) => ({ text, expect: plan.expect }))) },
  { weight: 2, arbitrary: piecewiseCase },
  { weight: 5, arbitrary: planCase.chain(mutatePlan).chain((plan) => renderPlan(plan).map((text) => ({ text, expect: plan.expect }))) },
  { weight: 1, arbitrary: outOfRunCase },
  {
    weight: 3,
    arbitrary: fc
      .tuple(fc.oneof(planCase.chain(renderPlan), piecewiseCase.map((c) => c.text)), fc.array(corruption, { minLength: 1, maxLength: 3 }))
      .map(([text, cuts]) => ({ text: cuts.reduce((t, c) => corrupt(t, c.kind, c.at, c.insert), text), expect: { kind: 'unknown' } as const })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.option(fc.constantFrom(...FAMILIES), { nil: undefined }), hostileText(40))
      .map(([family, rest]) => ({ text: family === undefined ? rest : `${family}:${rest}`, expect: { kind: 'unknown' } as const })),
  },
);

/** The direct checks of one spec text; returns the expanded lrs when the spec is accepted whole. */
function checkSpec({ text, expect }: SpecCase): Float64Array | null {
  let spec: ScheduleSpec;
  try {
    spec = parseSchedule(text);
  } catch (error) {
    if (!(error instanceof ScheduleError)) throw error;
    assert.ok(typeof error.key === 'string' && error.key.length > 0, 'a ScheduleError names a key');
    if (expect.kind === 'valid') assert.fail(`refused a valid spec: ${error.message}`);
    if (expect.kind === 'expr') assert.equal(error.key, 'f', `an expr spec built valid but for f was refused on ${error.key}: ${error.message}`);
    return null;
  }
  if (expect.kind === 'invalid') assert.fail(`accepted an invalid spec as ${JSON.stringify(spec)}`);
  if (expect.kind === 'valid' || expect.kind === 'expr') assert.deepStrictEqual(spec, expect.spec, 'parsed values differ from the ones written');
  const canonical = formatSchedule(spec);
  assert.deepStrictEqual(parseSchedule(canonical), spec, `parse(format(parse(x))) differs from parse(x); format gave ${JSON.stringify(canonical)}`);
  assert.equal(formatSchedule(parseSchedule(canonical)), canonical, 'the canonical form is not a fixed point');
  if (spec.total > EXPAND_LIMIT) return null;
  let lrs: Float64Array;
  try {
    lrs = expandSchedule(spec);
  } catch (error) {
    if (!(error instanceof ScheduleError) || spec.family !== 'expr' || error.key !== 'f') throw error;
    return null;
  }
  assert.equal(lrs.length, spec.total);
  for (let s = 0; s < lrs.length; s++) {
    const lr = lrs[s]!;
    if (!(Number.isFinite(lr) && lr >= 0)) assert.fail(`step ${s} expands to lr=${lr} (spec ${canonical})`);
  }
  return lrs;
}

test('property: any spec text parses or throws a ScheduleError; accepted specs round-trip through format and expand to finite lrs >= 0', () => {
  fc.assert(
    fc.property(specCase, (c) => {
      checkSpec(c);
    }),
    params,
  );
});

test('property: GET /schedules/expand answers 200 exactly for the specs the library accepts, else a 400 on a schedule field, never a 5xx', async () => {
  const { app, close } = await testApp();
  try {
    await fc.assert(
      fc.asyncProperty(specCase, async (c) => {
        // A lone surrogate cannot be percent-encoded: it goes out (and is checked) as U+FFFD.
        const sent = wellFormed(c.text);
        if (specTotal(sent) > BIG_TOTAL) return; // about 1 in 500 cases; see BIG_TOTAL
        let lrs: Float64Array | null = null;
        let spec: ScheduleSpec | null = null;
        try {
          spec = parseSchedule(sent);
          lrs = expandSchedule(spec);
        } catch (error) {
          if (!(error instanceof ScheduleError)) throw error;
        }
        const every = spec ? Math.max(1, Math.ceil(spec.total / 25)) : 1;
        const res = await app.inject({ method: 'GET', url: `/schedules/expand?schedule=${encodeURIComponent(sent)}&every=${every}` });
        if (lrs === null || spec === null) {
          assert.equal(res.statusCode, 400, res.body.slice(0, 300));
          assert.match(res.headers['content-type'] as string, /application\/problem\+json/);
          assert.match(res.json().field, /^schedule(\.|$)/);
          return;
        }
        assert.equal(res.statusCode, 200, res.body.slice(0, 300));
        const body = res.json();
        assert.equal(body.schedule, formatSchedule(spec));
        assert.equal(body.total, lrs.length);
        assert.deepStrictEqual(body.lrs, body.steps.map((s: number) => lrs![s]! + 0));
      }),
      httpParams,
    );
  } finally {
    await close();
  }
});

// ---------------------------------------------------------------------------------------------
// Curves: the model of the upload rules
// ---------------------------------------------------------------------------------------------

interface StoredPoint {
  step: number;
  loss: number;
  lr?: number;
}
interface ExpectedCurve {
  name: string;
  schedule: string | null;
  warmupSteps: number | null;
  meta: unknown;
  points: StoredPoint[];
  /** Whether the curve has an lr column (the CSV read-back's header is then step,lr,loss). */
  lrColumn: boolean;
}
/** The model's verdict on an upload: the curve to store, refused, or unknown (then only checked for crashes and exact storage). */
type Verdict = { ok: true; curve: ExpectedCurve } | { ok: false; why: string } | { ok: 'unknown' };
const refuse = (why: string): Verdict => ({ ok: false, why });
interface ModelPoint {
  step: number;
  loss: number;
  lr: number | null;
}

/** Point rules (README, src/curves/points.ts): steps non-negative integers, strictly increasing; losses finite > 0; lrs finite >= 0. */
function pointsVerdict(points: ModelPoint[]): string | null {
  if (points.length === 0) return 'no points';
  for (let i = 0; i < points.length; i++) {
    const { step, loss, lr } = points[i]!;
    if (!Number.isInteger(step) || step < 0) return `step ${step}`;
    if (i > 0 && step <= points[i - 1]!.step) return `step ${step} not increasing`;
    if (!(Number.isFinite(loss) && loss > 0)) return `loss ${loss}`;
    if (lr !== null && !(Number.isFinite(lr) && lr >= 0)) return `lr ${lr}`;
  }
  return null;
}

/**
 * Schedule rules (the upload contract): with a spec, every point inside it, logged lrs within 1e-6
 * relative, no warmupSteps, not lr 0 throughout; without, some logged lr > 0, steps below
 * 10,000,000, a warmup ending by the first logged lr.
 */
function scheduleVerdict(points: ModelPoint[], spec: string | null, warmupSteps: number | null): string | null {
  const last = points[points.length - 1]!.step;
  if (spec !== null) {
    if (warmupSteps !== null) return 'warmupSteps beside a spec';
    const lrs = specLrs(spec);
    if (lrs === null) return 'spec refused';
    if (last >= lrs.length) return 'a point beyond the schedule';
    for (const p of points) {
      if (p.lr === null) continue;
      const e = lrs[p.step]!;
      if (Math.abs(p.lr - e) > 1e-6 * Math.max(Math.abs(e), Math.abs(p.lr))) return `lr ${p.lr} at ${p.step} disagrees with the spec's ${e}`;
    }
    if (!lrs.some((lr) => lr > 0)) return 'spec lr 0 throughout';
    return null;
  }
  const logged = points.filter((p) => p.lr !== null);
  if (logged.length === 0) return 'neither spec nor lr';
  if (last >= MAX_TOTAL_STEPS) return 'step beyond 10,000,000 for a rebuilt schedule';
  if (warmupSteps !== null && warmupSteps - 1 > logged[0]!.step) return 'warmup ends after the first logged lr';
  if (!logged.some((p) => p.lr! > 0)) return 'every logged lr is 0';
  return null;
}

function expectedCurve(name: string, spec: string | null, warmupSteps: number | null, meta: unknown, points: ModelPoint[], lrColumn: boolean): Verdict {
  const bad = pointsVerdict(points) ?? scheduleVerdict(points, spec, warmupSteps);
  if (bad) return refuse(bad);
  return {
    ok: true,
    curve: {
      name,
      schedule: spec,
      warmupSteps,
      meta,
      points: points.map((p) => (p.lr === null ? { step: p.step, loss: p.loss } : { step: p.step, loss: p.loss, lr: p.lr })),
      lrColumn,
    },
  };
}

/** The curve prepareCurve made equals the expected one, bit for bit (before storage, -0 included). */
function checkPrepared(got: NewCurve, want: ExpectedCurve): void {
  assert.equal(got.name, want.name, 'name');
  assert.equal(got.schedule, want.schedule, 'schedule');
  assert.ok(Object.is(got.warmupSteps ?? null, want.warmupSteps === null ? null : want.warmupSteps + 0), `warmupSteps ${got.warmupSteps}`);
  assert.deepStrictEqual(got.meta, want.meta, 'meta');
  const { steps, losses, lrs } = got.points;
  assert.equal(steps.length, want.points.length, 'point count');
  assert.equal(lrs !== null, want.lrColumn, 'lr column');
  want.points.forEach((p, i) => {
    assert.ok(Object.is(steps[i], p.step) && Object.is(losses[i], p.loss), `point ${i}: ${steps[i]},${losses[i]} for ${p.step},${p.loss}`);
    if (lrs) assert.ok(Object.is(lrs[i], p.lr ?? NaN), `point ${i}: lr ${lrs[i]} for ${p.lr}`);
  });
}

/**
 * An upload prepared directly (`prepare`; undefined when it never reaches the upload code) is
 * refused with a 400 problem exactly when the rules refuse it, and otherwise equals the expected curve.
 */
function checkDirectUpload(verdict: Verdict, prepare: () => NewCurve | undefined): void {
  let prepared: NewCurve | undefined;
  try {
    prepared = prepare();
  } catch (error) {
    checkRefusal(error);
    if (verdict.ok === true) assert.fail(`refused an upload the rules accept: ${(error as Error).message}`);
    return;
  }
  if (prepared === undefined) return;
  if (verdict.ok === false) assert.fail(`accepted an upload the rules refuse (${verdict.why})`);
  if (verdict.ok === true) checkPrepared(prepared, verdict.curve);
}

/** A refusal from the upload pipeline must be a 400 problem naming a field (or fastify's own JSON-parse 400). */
function checkRefusal(error: unknown): void {
  if (error instanceof HttpProblem) {
    assert.equal(error.status, 400, error.message);
    assert.ok(error.field, `a refusal names a field: ${error.message}`);
    return;
  }
  if (error instanceof Error && (error as { statusCode?: number }).statusCode === 400 && /^FST_ERR_CTP/.test((error as { code?: string }).code ?? '')) return;
  throw error;
}

type App = Awaited<ReturnType<typeof testApp>>['app'];
type Reply = Awaited<ReturnType<App['inject']>>;

/** Compare what GET /curves/:id (JSON and CSV) and its schedule answer with the expected curve. */
async function checkStored(app: App, id: number, expected: ExpectedCurve): Promise<void> {
  const res = await app.inject({ method: 'GET', url: `/curves/${id}` });
  assert.equal(res.statusCode, 200, res.body.slice(0, 300));
  const got = res.json();
  assert.equal(got.name, expected.name, 'name read back');
  assert.equal(got.schedule, expected.schedule, 'schedule read back');
  assert.equal(got.warmupSteps, expected.warmupSteps === null ? null : expected.warmupSteps + 0, 'warmupSteps read back');
  assert.deepStrictEqual(got.meta, canon(expected.meta), 'meta read back');
  assert.deepStrictEqual(got.points, canon(expected.points), 'points read back');
  assert.equal(got.pointCount, expected.points.length);
  assert.equal(got.firstStep, expected.points[0]!.step + 0);
  assert.equal(got.lastStep, expected.points[expected.points.length - 1]!.step + 0);

  const csv = await app.inject({ method: 'GET', url: `/curves/${id}?format=csv` });
  assert.equal(csv.statusCode, 200);
  const lines = csv.body.split('\n');
  assert.equal(lines[0], expected.lrColumn ? 'step,lr,loss' : 'step,loss');
  assert.equal(lines.length, expected.points.length + 2, 'CSV read-back has a line per point and a final newline');
  expected.points.forEach((p, i) => {
    const want = expected.lrColumn ? [p.step, p.lr, p.loss] : [p.step, p.loss];
    assert.deepStrictEqual(
      lines[i + 1]!.split(',').map((c) => (c === '' ? undefined : Number(c))),
      want.map((v) => (v === undefined ? undefined : v + 0)),
      `CSV read-back line ${i + 1}: ${lines[i + 1]}`,
    );
  });

  const last = expected.points[expected.points.length - 1]!.step;
  const total = expected.schedule === null ? last + 1 : specLrs(expected.schedule)!.length;
  const sched = await app.inject({ method: 'GET', url: `/curves/${id}/schedule?every=${Math.max(1, Math.ceil(total / 20))}` });
  assert.equal(sched.statusCode, 200, sched.body.slice(0, 300));
  assert.equal(sched.json().total, total);
  for (const lr of sched.json().lrs) assert.ok(typeof lr === 'number' && Number.isFinite(lr) && lr >= 0, `the curve's schedule has lr ${lr}`);
}

/** An upload's answer: 201 or a 400 problem as the verdict says; when stored, it reads back exactly. */
async function checkUploadReply(app: App, res: Reply, verdict: Verdict, unknownCurve: () => ExpectedCurve): Promise<void> {
  assert.ok(res.statusCode === 201 || res.statusCode === 400, `status ${res.statusCode}: ${res.body.slice(0, 500)}`);
  if (res.statusCode === 400) {
    assert.match(res.headers['content-type'] as string, /application\/problem\+json/);
    const problem = res.json();
    assert.equal(problem.status, 400);
    assert.equal(typeof problem.detail, 'string');
    if (verdict.ok === true) assert.fail(`refused an upload the rules accept: ${problem.detail} (field ${problem.field})`);
    return;
  }
  if (verdict.ok === false) assert.fail(`accepted an upload the rules refuse (${verdict.why})`);
  const expected = verdict.ok === true ? verdict.curve : unknownCurve();
  const created = res.json();
  assert.equal(res.headers.location, `/curves/${created.id}`);
  assert.deepStrictEqual(
    { name: created.name, pointCount: created.pointCount, firstStep: created.firstStep, lastStep: created.lastStep, schedule: created.schedule },
    { name: expected.name, pointCount: expected.points.length, firstStep: expected.points[0]!.step + 0, lastStep: expected.points[expected.points.length - 1]!.step + 0, schedule: expected.schedule },
  );
  await checkStored(app, created.id, expected);
}

// ---------------------------------------------------------------------------------------------
// Curves: generators shared by CSV and JSON
// ---------------------------------------------------------------------------------------------

/**
 * Rendering choices drawn from one seed (mulberry32): many small choices per case (number forms,
 * padding, quoting, line ends) without a fast-check arbitrary each, which is several times faster.
 * A case still shrinks through its plan (steps, values) and its seed.
 */
class Choices {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  text(alphabet: readonly string[], maxLength: number): string {
    let out = '';
    for (let n = this.int(maxLength + 1); n > 0; n--) out += this.pick(alphabet);
    return out;
  }
}
const PADS = ['', '', '', '', ' ', '  ', '\t', '\u00A0', ' \t'];
/** Characters of free text in cells and names (well-formed: no lone surrogates). */
const TEXT_CHARS = [',', '"', '\r', '\n', ' ', '\t', 'x', 'y', '0', '1', '.', 'e', '-', ';', 'é', 'ß', '中', '😀', '\u0000', '\uFEFF', '\u00A0', '\u2028', '\uFF11', '\u0663'];

/** A spec for a CSV or JSON upload: small totals, valid mostly; any spec sometimes. */
const uploadSpec = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({ peak: positiveLr, total: fc.integer({ min: 1, max: 4000 }) }).map(({ peak, total }) => `constant:peak=${peak},total=${total}`),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({ peak: positiveLr, total: fc.integer({ min: 2, max: 4000 }), final: lrValue, w: fc.double({ min: 0, max: 0.5, noNaN: true }) })
      .map(({ peak, total, final, w }) => `cosine:peak=${peak},total=${total},warmup=${Math.floor(w * total)},final=${final}`),
  },
  {
    weight: 2,
    arbitrary: fc.record({ peak: positiveLr, total: fc.integer({ min: 2, max: 4000 }), final: lrValue }).map(({ peak, total, final }) => ` linear: peak=${peak} ,total=${total},final=${final} `),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom('piecewise:0=0;100=1e-3;3000=1e-5', 'wsd:peak=3e-4,total=3000,decayStart=2500,final=3e-5', 'expr:total=3000,peak=1e-3,f=peak*(1-s/total)', 'constant:peak=0,total=100', '', '  '),
  },
  // any spec, but one over BIG_TOTAL steps (about a second to check over HTTP) as a small one
  { weight: 2, arbitrary: specCase.map((c) => (specTotal(c.text) > BIG_TOTAL ? 'constant:peak=1e-3,total=10' : c.text)) },
);

/** Points: steps increasing (sometimes not), losses, lrs; with a spec, lrs from it (or off by 0.1%). */
const pointPlan = fc
  .record({
    spec: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 2, arbitrary: uploadSpec }),
    // Near the 10,000,000-step limit of rebuilt schedules rarely: an accepted one costs about 0.1 s (80 MB of lrs, twice).
    start: fc.oneof(
      { weight: 3000, arbitrary: fc.integer({ min: 0, max: 200 }) },
      { weight: 30, arbitrary: fc.constantFrom(MAX_TOTAL_STEPS, MAX_TOTAL_STEPS + 1, 2 ** 53, 1e300) },
      { weight: 1, arbitrary: fc.constant(MAX_TOTAL_STEPS - 3) },
    ),
    lrMode: fc.constantFrom('none', 'all', 'all', 'some', 'spec', 'spec', 'spec-some', 'spec-off'),
    // one entry per point (the first one's gap is unused)
    draws: fc.array(
      fc.record({
        gap: fc.oneof({ weight: 150, arbitrary: fc.integer({ min: 1, max: 300 }) }, { weight: 1, arbitrary: fc.constantFrom(0, -1) }),
        loss: lossValue,
        lr: lrValue,
        some: fc.boolean(),
      }),
      { minLength: 1, maxLength: 15 },
    ),
  })
  .map(({ spec, start, lrMode: mode, draws }) => {
    const specText = spec ?? null;
    const lrMode = specText === null && mode.startsWith('spec') ? 'all' : mode;
    const specValues = specText === null ? null : specLrs(specText);
    let steps = [start];
    for (const d of draws.slice(1)) steps.push(steps[steps.length - 1]! + d.gap);
    const last = steps[steps.length - 1]!;
    if (specValues && start < 200 && last >= specValues.length) steps = steps.map((s) => Math.floor((s / (last + 1)) * specValues.length)); // mostly inside the spec's run
    const points: ModelPoint[] = steps.map((step, i) => {
      const { loss, lr: logged, some } = draws[i]!;
      let lr: number | null = null;
      if (lrMode === 'all' || (lrMode === 'some' && some)) lr = logged;
      if (specValues && lrMode.startsWith('spec') && (lrMode !== 'spec-some' || some)) {
        const e = specValues[step];
        lr = e === undefined ? logged : lrMode === 'spec-off' && some ? e * (1 + 1e-3) + 1e-9 : e;
      }
      return { step, loss, lr };
    });
    return { spec: specText, points };
  });

/** Curve names: plain, unicode, lone surrogates, blank, long. */
const nameText = fc.oneof(
  { weight: 8, arbitrary: fc.stringMatching(/^[a-z][a-z0-9/_.-]{0,12}$/) },
  { weight: 4, arbitrary: fc.string({ unit: wellFormedChar, minLength: 1, maxLength: 20 }) },
  { weight: 1, arbitrary: hostileText(20) },
  { weight: 1, arbitrary: fc.constantFrom('', '   ', '\t', ' padded ', 'x'.repeat(200), 'y'.repeat(201), ` ${'z'.repeat(199)} `, '\u00A0n\u00A0', '__proto__', 'constructor') },
);

// ---------------------------------------------------------------------------------------------
// CSV uploads
// ---------------------------------------------------------------------------------------------

/** A CSV cell as written and what it holds. */
interface Cell {
  text: string;
  value: number | 'empty' | 'nan' | 'junk';
}
type Role = 'step' | 'loss' | 'lr' | 'other';

/** `content` as a CSV cell: quoted when it must be (or when asked), `"` doubled inside; spaces or tabs may sit outside the quotes. */
function cellText(content: string, quote: boolean, before = '', after = ''): string {
  if (quote || /[",\r\n]/.test(content)) return `${before}"${content.replaceAll('"', '""')}"${after}`;
  return content;
}
/** Quote one cell in ten, with spaces or tabs around the quotes now and then. */
function quoted(ch: Choices, content: string): string {
  return cellText(content, ch.chance(0.1), ch.pick(['', '', ' ', '\t']), ch.pick(['', '', ' ', '\t']));
}

/** Hostile cells with what they hold (the CSV number grammar: decimal, inf/infinity/nan words, empty). */
const HOSTILE_CELLS: [string, Cell['value']][] = [
  ['', 'empty'], [' ', 'empty'], ['\t', 'empty'], ['NaN', 'nan'], ['nan', 'nan'], ['-nan', 'nan'], ['+NaN', 'nan'],
  ['inf', Infinity], ['Infinity', Infinity], ['+inf', Infinity], ['1e309', Infinity], ['-inf', -Infinity], ['-1e309', -Infinity],
  ['-0', -0], ['1e-400', 0], ['-5', -5], ['1.5', 1.5], ['007', 7], ['1.', 1], ['.5', 0.5], ['-1e-3', -1e-3],
  ['0x10', 'junk'], ['0b1', 'junk'], ['1_000', 'junk'], ['\uFF11', 'junk'], ['\u0663', 'junk'], ['1e', 'junk'], ['e1', 'junk'], ['.', 'junk'],
  ['+', 'junk'], ['--1', 'junk'], ['1..2', 'junk'], ['1e1.5', 'junk'], ['true', 'junk'], ['null', 'junk'], ['1,5', 'junk'], ['"1"', 'junk'],
];

interface CsvCase {
  text: string;
  /** The query: name, schedule, warmupSteps... as URLSearchParams entries. */
  query: [string, string][];
  /** Header keys (names trimmed, lower case) and the cells of each line; null when the text was corrupted (the model cannot say). */
  header: string[] | null;
  rows: Cell[][] | null;
}

/** warmupSteps as query text: plain, odd and hostile. */
const warmupText = fc.oneof(
  fc.integer({ min: 0, max: 400 }).map(String),
  fc.constantFrom('0', '1', '0x10', '1e1', '-1', '1.5', '', ' 1', '+1', 'abc', '99999999999999999999', '-0', '007', '1.0'),
);

const csvCase: fc.Arbitrary<CsvCase> = fc
  .record({
    plan: pointPlan,
    seed: fc.integer(),
    extraColumns: fc.constantFrom(0, 0, 1, 2),
    dupRole: rarely(fc.constantFrom<Role>('step', 'loss', 'lr'), 25),
    dropRole: rarely(fc.constantFrom<Role>('step', 'loss'), 30),
    lrColumn: fc.boolean(),
    hostile: rarely(fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat(HOSTILE_CELLS.length), fc.string({ unit: wellFormedChar, maxLength: 6 })), { minLength: 1, maxLength: 2 }), 4),
    cellFix: rarely(fc.tuple(fc.nat(), fc.constantFrom(-1, 1)), 15),
    cuts: rarely(fc.array(corruption, { minLength: 1, maxLength: 2 }), 10),
    name: mostly(nameText, 25),
    warmup: rarely(warmupText, 4),
    extraQuery: rarely(fc.constantFrom<[string, string][]>([['meta', '{}']], [['foo', 'bar']], [['name', 'second']], [['points', '1']]), 30),
  })
  .map(({ plan, seed, extraColumns, dupRole, dropRole, lrColumn, hostile, cellFix, cuts, name, warmup, extraQuery }): CsvCase => {
    const ch = new Choices(seed);
    let roles: Role[] = ['step', 'loss'];
    if (lrColumn || plan.points.some((p) => p.lr !== null)) roles.push('lr');
    for (let i = 0; i < extraColumns; i++) roles.push('other');
    if (dupRole) roles.push(dupRole);
    if (dropRole) roles = roles.filter((r) => r !== dropRole);
    for (let i = roles.length - 1; i > 0; i--) {
      const j = ch.int(i + 1);
      [roles[i], roles[j]] = [roles[j]!, roles[i]!];
    }
    const header = roles.map((role) => {
      let content =
        role === 'other'
          ? ch.chance(0.6)
            ? ch.pick(['epoch', 'tokens', 'val loss', 'note, "quoted"', 'lr_max', 'losses', '', 'a\nb', 'Step ', ' LR'])
            : ch.text(TEXT_CHARS, 8)
          : ch.pick(PADS) + ch.pick([role, role.toUpperCase(), role[0]!.toUpperCase() + role.slice(1)]) + ch.pick(PADS);
      // An extra column named step or lr duplicates that column (refused); without it, its free-text cells would be that column's.
      if (role === 'other' && ['step', 'lr'].includes(content.trim().toLowerCase()) && !roles.includes(content.trim().toLowerCase() as Role)) content = 'epoch';
      return { text: quoted(ch, content), key: content.trim().toLowerCase() };
    });
    const numberCell = (x: number): Cell => ({ text: quoted(ch, ch.pick(PADS) + ch.pick(decimalForms(x)) + ch.pick(PADS)), value: x });
    const table: Cell[][] = plan.points.map((p) =>
      roles.map((role): Cell => {
        if (role === 'step') return p.step >= 0 ? numberCell(p.step) : { text: String(p.step), value: p.step };
        if (role === 'loss') return numberCell(p.loss);
        if (role === 'lr') return p.lr === null ? ch.pick<Cell>([{ text: '', value: 'empty' }, { text: ' ', value: 'empty' }, { text: '""', value: 'empty' }]) : numberCell(p.lr);
        return { text: quoted(ch, ch.text(TEXT_CHARS, 6)), value: 'junk' };
      }),
    );
    for (const [ri, ci, k, junk] of hostile ?? []) {
      if (table.length === 0) continue;
      const [content, value] = k === HOSTILE_CELLS.length ? [`x${junk}`, 'junk' as const] : HOSTILE_CELLS[k]!;
      table[ri % table.length]![ci % roles.length] = { text: quoted(ch, content), value };
    }
    if (cellFix && table.length > 0) {
      const row = table[cellFix[0] % table.length]!;
      if (cellFix[1] < 0 && row.length > 1) row.pop();
      if (cellFix[1] > 0) row.push({ text: '7', value: 7 });
    }
    const lines = [header.map((h) => h.text).join(','), ...table.map((r) => r.map((c) => c.text).join(','))];
    for (let n = ch.chance(0.3) ? ch.int(3) + 1 : 0; n > 0; n--) lines.splice(1 + ch.int(lines.length), 0, ch.pick(['', ' ', '\t', '\u00A0', '  \t']));
    const finalEnd = ch.chance(0.7);
    let text = lines.map((l, i) => l + (i < lines.length - 1 || finalEnd ? ch.pick(['\n', '\r\n', '\r']) : '')).join('');
    if (ch.chance(0.15)) text = '\uFEFF' + text;
    if (cuts) text = wellFormed(cuts.reduce((t, c) => corrupt(t, c.kind, c.at, c.insert), text));
    const query: [string, string][] = [];
    if (name !== undefined) query.push(['name', name]);
    if (plan.spec !== null) query.push(['schedule', plan.spec]);
    if (warmup !== undefined) query.push(['warmupSteps', warmup]);
    if (extraQuery) query.push(...extraQuery);
    return { text, query, header: cuts ? null : header.map((h) => h.key), rows: cuts ? null : table };
  });

/** What the server sees of the query (URLSearchParams encodes, lone surrogates as U+FFFD; fastify decodes). */
function queryOf(entries: [string, string][]): { qs: string; get: (k: string) => string[] } {
  const qs = new URLSearchParams(entries).toString();
  const back = new URLSearchParams(qs);
  return { qs, get: (k) => back.getAll(k) };
}

interface UploadQuery {
  /** As the route's schema hands it to the upload code (text, warmupSteps a number). */
  raw: { name: string; schedule?: string; warmupSteps?: number };
  name: string;
  spec: string | null;
  warmupSteps: number | null;
}
/** The upload's query by the rules: integers in plain decimal digits, no field twice, meta only in a JSON body; a string says why it is refused. */
function queryVerdict(entries: [string, string][]): UploadQuery | string {
  const { get } = queryOf(entries);
  for (const key of ['name', 'schedule', 'warmupSteps']) if (get(key).length > 1) return `${key} given twice`;
  if (get('meta').length > 0) return 'meta in a query is text, not an object';
  const [name] = get('name');
  if (name === undefined || name.trim() === '') return 'no name';
  if (name.length > 200) return 'long name';
  const [schedule] = get('schedule');
  const [w] = get('warmupSteps');
  let warmupSteps: number | null = null;
  if (w !== undefined) {
    if (!/^[+-]?[0-9]+$/.test(w) || Number(w) < 0) return `warmupSteps=${w}`;
    warmupSteps = Number(w);
  }
  return {
    raw: { name, ...(schedule === undefined ? {} : { schedule }), ...(warmupSteps === null ? {} : { warmupSteps }) },
    name: name.trim(),
    spec: schedule !== undefined && schedule.trim() !== '' ? schedule.trim() : null,
    warmupSteps,
  };
}

/** The model of a CSV upload: query, header, cells, then the point and schedule rules. */
function csvVerdict(c: CsvCase): Verdict {
  const q = queryVerdict(c.query);
  if (typeof q === 'string') return refuse(q);
  if (c.header === null || c.rows === null) return { ok: 'unknown' };
  const header = c.header;
  for (const role of ['step', 'loss', 'lr']) if (header.indexOf(role) !== header.lastIndexOf(role)) return refuse(`column ${role} twice`);
  const stepCol = header.indexOf('step');
  const lossCol = header.indexOf('loss');
  const lrCol = header.indexOf('lr');
  if (stepCol < 0 || lossCol < 0) return refuse('no step or loss column');
  const points: ModelPoint[] = [];
  for (const row of c.rows) {
    if (row.length === 1 && row[0]!.text.trim() === '') continue; // a blank line
    if (row.length !== header.length) return refuse('cell count');
    const value = (i: number, role: string): number | null | string => {
      const v = row[i]!.value;
      if (v === 'junk' || v === 'nan') return `${role} ${v}`;
      if (v === 'empty') return role === 'lr' ? null : `${role} empty`;
      return v;
    };
    const cells = [value(stepCol, 'step'), value(lossCol, 'loss'), lrCol >= 0 ? value(lrCol, 'lr') : null];
    const why = cells.find((v) => typeof v === 'string');
    if (typeof why === 'string') return refuse(why);
    points.push({ step: cells[0] as number, loss: cells[1] as number, lr: cells[2] as number | null });
  }
  return expectedCurve(q.name, q.spec, q.warmupSteps, {}, points, lrCol >= 0);
}

/** For a corrupted CSV the library's own parse is the expectation (the HTTP property then checks storage and read-back). */
function csvParsedCurve(c: CsvCase): ExpectedCurve {
  const q = queryVerdict(c.query) as UploadQuery;
  const { steps, losses, lrs } = parseCurveCsv(c.text);
  const points = Array.from(steps, (step, i) => {
    const lr = lrs ? lrs[i]! : NaN;
    return Number.isNaN(lr) ? { step, loss: losses[i]! } : { step, loss: losses[i]!, lr };
  });
  return { name: q.name, schedule: q.spec, warmupSteps: q.warmupSteps, meta: {}, points, lrColumn: lrs !== null };
}

/** Text made of CSV-like lines: cells of numbers, words, quotes, blanks, with any line ends. */
const csvishText = fc
  .array(
    fc.tuple(
      fc.array(
        fc.oneof(
          fc.constantFrom('step', 'loss', 'lr', 'LR', ' Step ', '"loss"', '1', '0.5', '', ' ', 'nan', 'inf', '1e309', '-0', '"', '""', '"a,b"', '"x""y"', ' "1" ', '"\r\n"', '"1"x'),
          fc.string({ unit: hostileChar, maxLength: 4 }),
        ),
        { maxLength: 5 },
      ),
      fc.constantFrom('\n', '\r\n', '\r', '\n\r', ''),
    ),
    { maxLength: 6 },
  )
  .chain((lines) => fc.boolean().map((bom) => (bom ? '\uFEFF' : '') + lines.map(([cells, end]) => cells.join(',') + end).join('')));

test('property: parseCurveCsv on arbitrary text returns columns or throws a 400 HttpProblem naming a field', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: hostileChar, maxLength: 80 }), csvishText), (text) => {
      try {
        const { steps, losses, lrs } = parseCurveCsv(text);
        assert.equal(losses.length, steps.length);
        if (lrs) assert.equal(lrs.length, steps.length);
      } catch (error) {
        checkRefusal(error);
      }
    }),
    params,
  );
});

test('property: a CSV upload (parseCurveCsv + prepareCurve) is accepted exactly when the rules say, with the values written', () => {
  fc.assert(
    fc.property(csvCase, (c) => {
      const verdict = csvVerdict(c);
      const q = queryVerdict(c.query);
      checkDirectUpload(verdict, () => {
        const columns = parseCurveCsv(c.text);
        // The route's schema refuses a bad query before the upload code runs.
        return typeof q === 'string' ? undefined : prepareCurve(q.raw, columns);
      });
    }),
    params,
  );
});

test('property: POST /curves with CSV answers 201 exactly when the rules accept, else 400, and a stored curve reads back exactly', async () => {
  const { app, close } = await testApp();
  try {
    await fc.assert(
      fc.asyncProperty(csvCase, fc.constantFrom('text/csv', 'text/csv; charset=utf-8'), async (c, contentType) => {
        const res = await app.inject({ method: 'POST', url: `/curves?${queryOf(c.query).qs}`, headers: { 'content-type': contentType }, payload: c.text });
        await checkUploadReply(app, res, csvVerdict(c), () => csvParsedCurve(c));
      }),
      httpParams,
    );
  } finally {
    await close();
  }
});

// ---------------------------------------------------------------------------------------------
// JSON bodies
// ---------------------------------------------------------------------------------------------

/** JSON as written: raw tokens (numbers in any form, hostile ones), strings, arrays, objects with duplicate keys allowed. */
class Raw {
  constructor(readonly text: string) {}
}
class Str {
  /** `escape`: every UTF-16 unit written as \uXXXX. */
  constructor(
    readonly value: string,
    readonly escape = false,
  ) {}
}
class Arr {
  constructor(readonly items: Json[]) {}
}
class Obj {
  constructor(readonly entries: [Str, Json][]) {}
}
type Json = Raw | Str | Arr | Obj;

function render(j: Json, ws: string): string {
  if (j instanceof Raw) return j.text;
  if (j instanceof Str) {
    if (!j.escape) return JSON.stringify(j.value); // escapes lone surrogates as \udxxx
    let out = '"';
    for (let i = 0; i < j.value.length; i++) out += `\\u${j.value.charCodeAt(i).toString(16).padStart(4, '0')}`;
    return `${out}"`;
  }
  if (j instanceof Arr) return `[${ws}${j.items.map((i) => render(i, ws)).join(`,${ws}`)}${ws}]`;
  return `{${ws}${j.entries.map(([k, v]) => `${render(k, ws)}${ws}:${ws}${render(v, ws)}`).join(`,${ws}`)}${ws}}`;
}

/** A JSON number token for each value of `values`, in one of its exact forms. */
const jsonNumber = (values: fc.Arbitrary<number>): fc.Arbitrary<Json> => fc.tuple(values, fc.nat(3)).map(([x, k]) => new Raw(jsonForms(x)[k]!));
const str = (s: fc.Arbitrary<string>): fc.Arbitrary<Json> => fc.tuple(s, fc.nat(15)).map(([v, n]) => new Str(v, n === 0));
/** Number tokens JSON.parse takes but that are odd (overflow, -0, underflow, exponent forms). */
const oddJsonNumber = fc.constantFrom('1e309', '-1e309', '1E400', '-0', '-0.0', '0.0', '1e-400', '1.0', '5e-324', '1.7976931348623157e308', '1' + '0'.repeat(400), '9007199254740993', '1E2', '1e+2');
/** Tokens JSON.parse refuses (the whole body is then invalid JSON). */
const badJsonToken = fc.constantFrom('NaN', 'Infinity', '-Infinity', '0x10', '+1', '01', '.5', '1.', 'undefined', "'a'", '"\\x41"', '"\\u12"', '[1,]', '{"a":1,}');

/** Keys: ordinary, prototype-related, unicode, lone surrogates; sometimes \u-escaped. */
const keyText = fc.oneof(
  { weight: 24, arbitrary: fc.constantFrom('a', 'model', 'tokens', 'tags', '0', '1', '-1', '1e3', '', ' ', 'name', 'points', 'step', 'loss', 'lr') },
  { weight: 4, arbitrary: fc.constantFrom('prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__', '\u0000') },
  { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor') },
  { weight: 6, arbitrary: fc.string({ unit: wellFormedChar, maxLength: 6 }) },
  { weight: 1, arbitrary: hostileText(6) },
);
const key = (k: fc.Arbitrary<string>) => fc.tuple(k, fc.nat(7)).map(([v, n]) => new Str(v, n === 0));

/** Scalar JSON values of every type. */
const leaf: fc.Arbitrary<Json> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(new Raw('null'), new Raw('true'), new Raw('false')) },
  { weight: 4, arbitrary: jsonNumber(lossValue) },
  { weight: 4, arbitrary: jsonNumber(fc.integer({ min: -1000, max: 1000 })) },
  { weight: 4, arbitrary: jsonNumber(fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => x + 0)) },
  { weight: 1, arbitrary: oddJsonNumber.map((t) => new Raw(t)) },
  { weight: 6, arbitrary: str(fc.string({ unit: wellFormedChar, maxLength: 10 })) },
  { weight: 1, arbitrary: str(hostileText(10)) },
  { weight: 2, arbitrary: str(fc.constantFrom('1', '0x10', '', ' ', 'NaN', '1e309')) },
);

/** Nested JSON values (meta, extra keys, wrong types). */
const { value: jsonValue } = fc.letrec<{ value: Json; object: Json; array: Json }>((tie) => ({
  value: fc.oneof({ maxDepth: 4, depthIdentifier: 'json' }, leaf, tie('object'), tie('array')),
  object: fc.array(fc.tuple(key(keyText), tie('value')), { maxLength: 4 }).map((e) => new Obj(e)),
  array: fc.array(tie('value'), { maxLength: 4 }).map((i) => new Arr(i)),
}));

/** A chain of `depth` nested objects or arrays ending in a leaf (around the meta limit of 16 levels). */
const deepValue = fc.tuple(fc.integer({ min: 1, max: 24 }), fc.array(fc.boolean(), { minLength: 24, maxLength: 24 }), leaf).map(([depth, kinds, end]) => {
  let v: Json = end;
  for (let i = 0; i < depth; i++) v = kinds[i] ? new Arr([v]) : new Obj([[new Str('k'), v]]);
  return v;
});

const metaValue: fc.Arbitrary<Json> = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.tuple(key(keyText), jsonValue), { maxLength: 5 }).map((e) => new Obj(e)) },
  { weight: 2, arbitrary: deepValue.map((v) => new Obj([[new Str('deep'), v]])) },
  { weight: 1, arbitrary: fc.integer({ min: 16_300, max: 16_400 }).map((n) => new Obj([[new Str('blob'), new Str('x'.repeat(n))]])) },
  { weight: 1, arbitrary: fc.constant(new Obj([[new Str('d'), new Raw('['.repeat(3000) + ']'.repeat(3000))]])) },
  { weight: 1, arbitrary: jsonValue },
);

/** A value of the wrong type for a field (or an odd one of the right type). */
const wrongType: fc.Arbitrary<Json> = fc.oneof(
  { weight: 8, arbitrary: jsonValue },
  { weight: 1, arbitrary: badJsonToken.map((t) => new Raw(t)) },
  { weight: 1, arbitrary: fc.constant(new Raw('['.repeat(2000) + ']'.repeat(2000))) },
);

/** JSON upload bodies as text: a point plan rendered with random number forms, then wrong types, hostile keys and text corruption now and then. */
const jsonCase: fc.Arbitrary<string> = fc
  .record({
    plan: pointPlan,
    seed: fc.integer(),
    name: fc.oneof({ weight: 12, arbitrary: str(nameText) }, { weight: 1, arbitrary: wrongType }),
    hasName: fc.nat(30).map((n) => n !== 0),
    warmup: rarely(fc.oneof(jsonNumber(fc.integer({ min: 0, max: 400 })), wrongType, str(fc.constantFrom('5', '0x10', ' ', '', '1e1')), fc.constantFrom(new Raw('-0'), new Raw('1.5'), new Raw('-1'), new Raw('1e309'), new Raw('null'))), 4),
    meta: rarely(metaValue, 2),
    specValue: rarely(wrongType, 30),
    pointsValue: rarely(wrongType, 30),
    pointMutations: rarely(fc.array(fc.tuple(fc.nat(), fc.constantFrom('step', 'loss', 'lr', 'point', 'extra'), wrongType), { minLength: 1, maxLength: 2 }), 6),
    extra: rarely(fc.array(fc.tuple(key(keyText), jsonValue), { minLength: 1, maxLength: 2 }), 3),
    cuts: rarely(fc.array(corruption, { minLength: 1, maxLength: 2 }), 15),
    top: rarely(fc.oneof(jsonValue, fc.constantFrom(new Raw(''), new Raw('   '), new Raw('\uFEFF{}'), new Raw('null'), new Raw('[]'))), 40),
  })
  .map((c) => {
    const ch = new Choices(c.seed);
    const num = (x: number): Json => (x < 0 || Object.is(x, -0) ? new Raw(String(x)) : new Raw(ch.pick(jsonForms(x))));
    const points: Json[] = c.plan.points.map((p) => {
      const lr: Json | undefined = p.lr === null ? ch.pick([undefined, undefined, new Raw('null')]) : num(p.lr);
      return new Obj([[new Str('step'), num(p.step)], [new Str('loss'), num(p.loss)], ...(lr === undefined ? [] : [[new Str('lr'), lr] as [Str, Json]])]);
    });
    for (const [i, what, value] of c.pointMutations ?? []) {
      if (points.length === 0) break;
      const at = i % points.length;
      const point = points[at]!;
      if (what === 'point' || !(point instanceof Obj)) points[at] = value;
      else if (what === 'extra') points[at] = new Obj([...point.entries, [new Str('extra'), value]]);
      else points[at] = new Obj([...point.entries.filter(([k]) => k.value !== what), [new Str(what), value]]);
    }
    const entries: [Str, Json][] = [];
    if (c.hasName) entries.push([new Str('name'), c.name]);
    if (c.plan.spec !== null || c.specValue) entries.push([new Str('schedule'), c.specValue ?? new Str(c.plan.spec!)]);
    if (c.warmup !== undefined) entries.push([new Str('warmupSteps'), c.warmup]);
    if (c.meta !== undefined) entries.push([new Str('meta'), c.meta]);
    entries.push([new Str('points'), c.pointsValue ?? new Arr(points)]);
    entries.push(...(c.extra ?? []));
    // rotate the keys: order does not matter to JSON, duplicates do (the last one wins)
    const k = ch.int(entries.length);
    const body = c.top ?? new Obj([...entries.slice(k), ...entries.slice(0, k)]);
    const text = render(body, ch.pick(['', '', ' ', '\n', '\r\n', '\t', ' \n  ']));
    return c.cuts ? c.cuts.reduce((t, cut) => corrupt(t, cut.kind, cut.at, cut.insert), text) : text;
  });

/** The text the server sees: UTF-8 encoding turns lone surrogates written raw (not as \u escapes) into U+FFFD. */
const sentText = (text: string) => Buffer.from(text, 'utf8').toString('utf8');

/**
 * The model of a JSON upload: JSON.parse is the reference for JSON itself; a body with a
 * `__proto__` key, a `constructor.prototype`, a number beyond float64 or a string or key with a
 * lone surrogate is refused; then the upload rules (README, the contract's CurveUpload).
 */
function jsonVerdict(text: string): Verdict {
  const seen = sentText(text);
  if (seen.length === 0) return refuse('empty body');
  let body: unknown;
  try {
    body = JSON.parse(seen);
  } catch {
    return refuse('not JSON');
  }
  const stack: unknown[] = [body];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'number' && !Number.isFinite(v)) return refuse('a number beyond float64');
    if (typeof v === 'string' && LONE_SURROGATE.test(v)) return refuse('a lone surrogate');
    if (typeof v !== 'object' || v === null) continue;
    for (const [k, child] of Object.entries(v)) {
      if (!Array.isArray(v)) {
        if (k === '__proto__') return refuse('__proto__ key');
        if (k === 'constructor' && typeof child === 'object' && child !== null && Object.hasOwn(child, 'prototype')) return refuse('constructor.prototype');
        if (LONE_SURROGATE.test(k)) return refuse('a lone surrogate in a key');
      }
      stack.push(child);
    }
  }
  if (!isPlainObject(body)) return refuse('body not an object');
  const { name, schedule, warmupSteps, points } = body;
  const meta = body.meta ?? {};
  if (typeof name !== 'string' || name.trim() === '' || name.length > 200) return refuse('name');
  if (schedule !== undefined && schedule !== null && typeof schedule !== 'string') return refuse('schedule type');
  if (warmupSteps !== undefined && warmupSteps !== null && !(typeof warmupSteps === 'number' && Number.isInteger(warmupSteps) && warmupSteps >= 0)) return refuse('warmupSteps');
  if (!isPlainObject(meta)) return refuse('meta type');
  if (depthOf(meta) > MAX_META_DEPTH) return refuse('meta depth');
  if (Buffer.byteLength(JSON.stringify(meta), 'utf8') > MAX_META_BYTES) return refuse('meta size');
  if (!Array.isArray(points)) return refuse('points not an array');
  const cols: ModelPoint[] = [];
  for (const p of points) {
    if (!isPlainObject(p)) return refuse('point not an object');
    if (typeof p.step !== 'number' || typeof p.loss !== 'number') return refuse('step/loss type');
    if (p.lr !== undefined && p.lr !== null && typeof p.lr !== 'number') return refuse('lr type');
    cols.push({ step: p.step, loss: p.loss, lr: typeof p.lr === 'number' ? p.lr : null });
  }
  const spec = typeof schedule === 'string' && schedule.trim() !== '' ? schedule.trim() : null;
  return expectedCurve(name.trim(), spec, typeof warmupSteps === 'number' ? warmupSteps : null, meta, cols, cols.some((p) => p.lr !== null));
}

/** What POST /curves does with a JSON body before storing it: the body parser, the route's object check, pointsFromJson, prepareCurve. */
function prepareJson(text: string): NewCurve {
  let body: unknown;
  parseJsonBody(null, sentText(text), (error, value) => {
    if (error) throw error;
    body = value;
  });
  if (!isPlainObject(body)) throw badRequest('the body must be a JSON object', 'body');
  return prepareCurve(body, pointsFromJson(body.points));
}

test('property: a JSON upload (body parser + pointsFromJson + prepareCurve) is accepted exactly when the rules say, with the values written', () => {
  fc.assert(
    fc.property(jsonCase, (text) => {
      const verdict = jsonVerdict(text);
      checkDirectUpload(verdict, () => prepareJson(text));
    }),
    params,
  );
});

test('property: POST /curves with a JSON body answers 201 exactly when the rules accept, else 400, and a stored curve reads back exactly', async () => {
  const { app, close } = await testApp();
  try {
    await fc.assert(
      fc.asyncProperty(jsonCase, async (text) => {
        const res = await app.inject({ method: 'POST', url: '/curves', headers: { 'content-type': 'application/json' }, payload: text });
        await checkUploadReply(app, res, jsonVerdict(text), () => assert.fail('the JSON model always decides'));
      }),
      httpParams,
    );
  } finally {
    await close();
  }
});

// ---------------------------------------------------------------------------------------------
// Regressions: what the properties found (fixed at the source), as plain tests
// ---------------------------------------------------------------------------------------------

test('regression: a family named like an Object.prototype member (constructor, toString) is an unknown family, not a TypeError (500)', async () => {
  for (const text of ['constructor:peak=1,total=10', 'toString:peak=1', '__proto__:peak=1,total=10', 'hasOwnProperty:']) {
    assert.throws(() => parseSchedule(text), (e: unknown) => e instanceof ScheduleError && e.key === 'family', text);
  }
  const { app, close } = await testApp();
  try {
    const res = await app.inject({ method: 'GET', url: `/schedules/expand?schedule=${encodeURIComponent('constructor:peak=1,total=10')}` });
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().field, 'schedule.family');
    const upload = await app.inject({ method: 'POST', url: '/curves', payload: { name: 'c', schedule: 'toString:peak=1,total=10', points: [{ step: 0, loss: 3 }] } });
    assert.equal(upload.statusCode, 400, upload.body);
    assert.equal(upload.json().field, 'schedule.family');
  } finally {
    await close();
  }
});

test('regression: lrs near 1e308 expand to finite lrs (linear decay, warmup, piecewise); decays end on their final lr, never past it to a negative lr', () => {
  const finite = (text: string) => {
    const lrs = expandSchedule(text);
    for (const [s, lr] of lrs.entries()) assert.ok(Number.isFinite(lr) && lr >= 0, `${text}: step ${s} lr ${lr}`);
    return lrs;
  };
  // found by the spec property: steps 2.. were Infinity
  assert.deepStrictEqual(Array.from(finite('linear:final=1e+308,total=13,peak=0')).slice(0, 3), [0, 1e308 / 12, 2 * (1e308 / 12)]);
  assert.equal(finite('linear:final=1e+308,total=13,peak=0')[12], 1e308);
  finite('constant:peak=1e308,total=5,warmup=4');
  finite('wsd:peak=1.5e308,total=20,decayStart=10,final=0,shape=linear');
  finite('piecewise:0=0;7=1.7e308;9=0');
  // rounding stepped past the final lr: 0.1 + (-0.1 * 3) / 3 = -1.3877787807814457e-17
  assert.equal(finite('linear:peak=0.1,total=4,final=0')[3], 0);
  assert.equal(finite('piecewise:0=0.1;3=0')[3], 0);
  assert.equal(finite('piecewise:0=1e+308;1=0;2=0.9999999999999987;30=0')[30], 0); // found by the spec property: -1.1102230246251565e-16
  // found by the spec property (seeds 42 and 777): halving a subnormal peak - final rounded past peak 0 to -5e-324
  assert.equal(finite('wsd:decayStart=696,final=7.4e-323,warmup=696,total=2323,shape=cosine,peak=0')[696], 0);
  assert.equal(finite('cosine:peak=0,total=10,final=7.4e-323')[0], 0);
  finite(`wsd:peak=${Number.MAX_VALUE},total=50,decayStart=10,final=${Number.MAX_VALUE},shape=exp`);
  // the usual values are unchanged, bit for bit
  assert.equal(expandSchedule('linear:peak=0.1,total=4,final=0')[1], 0.1 + (-0.1 * 1) / 3);
  assert.equal(expandSchedule('cosine:peak=3e-4,total=100,warmup=10')[5], (3e-4 * 5) / 9);
});

test('regression: a schedule rebuilt from logged lrs near 1e308 stays finite (it was Infinity and NaN, null in GET /curves/:id/schedule)', async () => {
  const { app, close } = await testApp();
  try {
    // found by the JSON property
    const json = await app.inject({
      method: 'POST',
      url: '/curves',
      headers: { 'content-type': 'application/json' },
      payload: '{"name":"\\u0061","warmupSteps":-0,"points":[{"step":0,"loss":1,"lr":0},{"step":1,"loss":1,"lr":0},{"step":4,"loss":1,"lr":1e+308}]}',
    });
    // found by the CSV property (quoted cells, a BOM, an ignored empty column)
    const csv = await app.inject({
      method: 'POST',
      url: `/curves?name=${encodeURIComponent(',')}`,
      headers: { 'content-type': 'text/csv' },
      payload: '\uFEFF"loss","","step","lr"\n"1","","0","0"\n"1","","3","1e+308"',
    });
    for (const res of [json, csv]) {
      assert.equal(res.statusCode, 201, res.body);
      const sched = (await app.inject({ method: 'GET', url: `/curves/${res.json().id}/schedule?every=1` })).json();
      for (const lr of sched.lrs) assert.ok(typeof lr === 'number' && Number.isFinite(lr) && lr >= 0, `lr ${lr}`);
    }
    const warm = await app.inject({ method: 'POST', url: '/curves', payload: { name: 'w', warmupSteps: 5, points: [{ step: 4, loss: 1, lr: 1.7e308 }] } });
    assert.equal(warm.statusCode, 201, warm.body);
    const sched = (await app.inject({ method: 'GET', url: `/curves/${warm.json().id}/schedule?every=1` })).json();
    assert.deepStrictEqual(sched.lrs, [0, 1.7e308 * 0.25, 1.7e308 * 0.5, 1.7e308 * 0.75, 1.7e308]);
  } finally {
    await close();
  }
});

test('regression: -0 in a spec parses as 0, so format(parse(x)) parses back to the same spec', () => {
  for (const text of ['constant:peak=-0,total=10', 'cosine:peak=1,total=10,warmup=-0,final=-0.0', 'piecewise:-0=1;5=-0', 'expr:peak=1,total=5,k=-0,f=k+1']) {
    const spec = parseSchedule(text);
    assert.deepStrictEqual(parseSchedule(formatSchedule(spec)), spec, text);
    assert.ok(!JSON.stringify(spec, (_k, v) => (Object.is(v, -0) ? 'MINUS ZERO' : v)).includes('MINUS ZERO'), `${text}: ${formatSchedule(spec)}`);
  }
});

test('regression: an empty spec key (`constant:=`) is a ScheduleError on `schedule`, not on the empty field `schedule.`', async () => {
  // found by the spec property
  assert.throws(() => parseSchedule('constant:='), (e: unknown) => e instanceof ScheduleError && e.key === 'schedule');
  const { app, close } = await testApp();
  try {
    const res = await app.inject({ method: 'GET', url: `/schedules/expand?schedule=${encodeURIComponent('constant:=1,peak=1,total=2')}` });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().field, 'schedule');
  } finally {
    await close();
  }
});

test('regression: query integers are plain decimal: warmupSteps=1e1, 0x10, 1.0 or " 1" is a 400, not 10, 16 and 1', async () => {
  const { app, close } = await testApp();
  try {
    // found by the CSV property: {"text":"\uFEFF\"step\",\"lr\",\"loss\"\n\"9\",\"5e-324\",\"1\"","query":[["name","\u0000"],["warmupSteps","1e1"]]}
    for (const w of ['1e1', '0x10', '1.0', ' 1', '1_0', '']) {
      const res = await app.inject({ method: 'POST', url: `/curves?name=q&warmupSteps=${encodeURIComponent(w)}`, headers: { 'content-type': 'text/csv' }, payload: 'step,lr,loss\n9,5e-324,1\n' });
      assert.equal(res.statusCode, 400, `warmupSteps=${w}: ${res.body}`);
      assert.equal(res.json().field, 'warmupSteps');
    }
    for (const w of ['10', '+10', '010']) {
      const res = await app.inject({ method: 'POST', url: `/curves?name=q&warmupSteps=${encodeURIComponent(w)}`, headers: { 'content-type': 'text/csv' }, payload: 'step,lr,loss\n9,5e-324,1\n' });
      assert.equal(res.statusCode, 201, `warmupSteps=${w}: ${res.body}`);
      assert.equal((await app.inject({ method: 'GET', url: `/curves/${res.json().id}` })).json().warmupSteps, 10);
    }
    const page = await app.inject({ method: 'GET', url: '/curves?limit=1e1' });
    assert.equal(page.statusCode, 400);
    assert.equal(page.json().field, 'limit');
  } finally {
    await close();
  }
});

test('regression: a JSON number beyond float64 (1e309) anywhere in a body is a 400 naming it; it was stored as null', async () => {
  const { app, close } = await testApp();
  try {
    // found by the JSON property: the extra key "a" (written \u0061) held 1e309
    const cases: [string, string][] = [
      ['{"name":"\\u0061","meta":{},"points":[{"step":0,"loss":1,"lr":5e-324}],"\\u0061":1e309}', 'a'],
      ['{"name":"m","meta":{"x":[1,-1e309]},"points":[{"step":0,"loss":1,"lr":1}]}', 'meta.x[1]'],
      [`{"name":"m","points":[{"step":0,"loss":1${'0'.repeat(400)},"lr":1}]}`, 'points[0].loss'],
    ];
    for (const [payload, field] of cases) {
      const res = await app.inject({ method: 'POST', url: '/curves', headers: { 'content-type': 'application/json' }, payload });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().field, field);
      assert.match(res.json().detail, /beyond the float64 range/);
    }
    const ok = await app.inject({ method: 'POST', url: '/curves', headers: { 'content-type': 'application/json' }, payload: '{"name":"m","meta":{"x":1.7976931348623157e308,"y":1e-400},"points":[{"step":0,"loss":1,"lr":1}]}' });
    assert.equal(ok.statusCode, 201, ok.body);
    assert.deepStrictEqual((await app.inject({ method: 'GET', url: `/curves/${ok.json().id}` })).json().meta, { x: 1.7976931348623157e308, y: 0 });
  } finally {
    await close();
  }
});

test('regression: a lone surrogate (\\ud800) in a JSON string or key is a 400; a name with one was stored as U+FFFD', async () => {
  const { app, close } = await testApp();
  try {
    for (const [payload, field] of [
      ['{"name":"a\\ud800b","points":[{"step":0,"loss":1,"lr":1}]}', 'name'],
      ['{"name":"s","schedule":"expr:total=10,peak=1,f=peak # \\udc00","points":[{"step":0,"loss":1}]}', 'schedule'],
      ['{"name":"k","meta":{"\\ud83d":1},"points":[{"step":0,"loss":1,"lr":1}]}', 'meta.\\ud83d'],
    ] as const) {
      const res = await app.inject({ method: 'POST', url: '/curves', headers: { 'content-type': 'application/json' }, payload });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().field, field);
      assert.match(res.json().detail, /lone UTF-16 surrogate/);
    }
    // a pair is fine, escaped or not
    const ok = await app.inject({ method: 'POST', url: '/curves', headers: { 'content-type': 'application/json' }, payload: '{"name":"\\ud83d\\ude00 😀","points":[{"step":0,"loss":1,"lr":1}]}' });
    assert.equal(ok.statusCode, 201, ok.body);
    assert.equal((await app.inject({ method: 'GET', url: `/curves/${ok.json().id}` })).json().name, '😀 😀');
  } finally {
    await close();
  }
});

test('regression: warmupSteps in a JSON body is a number, not text ("0x1" was 1, " " was 0)', async () => {
  const { app, close } = await testApp();
  try {
    for (const warmupSteps of ['0x1', ' ', '', '5', '1e1']) {
      const res = await app.inject({ method: 'POST', url: '/curves', payload: { name: 'w', warmupSteps, points: [{ step: 9, loss: 1, lr: 1 }] } });
      assert.equal(res.statusCode, 400, `${JSON.stringify(warmupSteps)}: ${res.body}`);
      assert.equal(res.json().field, 'warmupSteps');
    }
    const ok = await app.inject({ method: 'POST', url: '/curves', headers: { 'content-type': 'application/json' }, payload: '{"name":"w","warmupSteps":-0,"points":[{"step":9,"loss":1,"lr":1}]}' });
    assert.equal(ok.statusCode, 201, ok.body);
    assert.equal((await app.inject({ method: 'GET', url: `/curves/${ok.json().id}` })).json().warmupSteps, 0);
  } finally {
    await close();
  }
});

test('a 10,000,000-step spec (left out of the HTTP spec property for time) expands over HTTP', async () => {
  const { app, close } = await testApp();
  try {
    const res = await app.inject({ method: 'GET', url: `/schedules/expand?schedule=${encodeURIComponent(`linear:peak=1e308,total=${MAX_TOTAL_STEPS},warmup=10`)}&every=2500000` });
    assert.equal(res.statusCode, 200, res.body.slice(0, 300));
    assert.deepStrictEqual(res.json().steps, [0, 2_500_000, 5_000_000, 7_500_000, 9_999_999]);
    for (const lr of res.json().lrs) assert.ok(Number.isFinite(lr) && lr >= 0);
    assert.equal(res.json().lrs.at(-1), 0);
  } finally {
    await close();
  }
});

// ---------------------------------------------------------------------------------------------
// CSV line ends and quoted cells
// ---------------------------------------------------------------------------------------------

test('CSV: CR-only (old Mac) and mixed CR / LF / CRLF line ends read as the same points as LF', () => {
  const lines = ['step,lr,loss', '0,0.001,4.5', '100,0.0009,4.1', '200,,3.9'];
  const reference = parseCurveCsv(lines.join('\n') + '\n');
  assert.deepStrictEqual(Array.from(reference.steps), [0, 100, 200]);
  for (const text of [
    lines.join('\r'),
    lines.join('\r') + '\r',
    lines.join('\r\n') + '\r\n',
    `${lines[0]}\r${lines[1]}\r\n${lines[2]}\n${lines[3]}\r`,
    `\uFEFF\r\n${lines[0]}\r\r${lines[1]}\n\r${lines[2]}\r \r${lines[3]}`,
  ]) {
    assert.deepStrictEqual(parseCurveCsv(text), reference, JSON.stringify(text));
  }
});

test('CSV: quoted cells (RFC 4180): quoted names and numbers, "" inside quotes, commas and line breaks in an ignored column', () => {
  const text = '"Step","note, with comma",lr,"loss"\r"0","a\r\nb ""quoted""", 1e-3 ,"4.5"\r\n 100 ,"",  "0.0009" ,4.1\n';
  const parsed = parseCurveCsv(text);
  assert.deepStrictEqual(Array.from(parsed.steps), [0, 100]);
  assert.deepStrictEqual(Array.from(parsed.losses), [4.5, 4.1]);
  assert.deepStrictEqual(Array.from(parsed.lrs!), [1e-3, 0.0009]);
  // a " inside an unquoted cell is an ordinary character (so the cell is no number)
  assert.throws(() => parseCurveCsv('step,loss\n1,4"5\n'), (e: unknown) => e instanceof HttpProblem && e.field === 'points[0].loss');
  // an unclosed quote, or text after a closing quote, is a 400 naming the row
  assert.throws(() => parseCurveCsv('step,loss\n1,"4.5\n2,4\n'), (e: unknown) => e instanceof HttpProblem && e.field === 'points[0]' && /no closing quote/.test(e.message));
  assert.throws(() => parseCurveCsv('step,"loss"x\n1,4\n'), (e: unknown) => e instanceof HttpProblem && e.field === 'header' && /after the closing quote/.test(e.message));
});

test('CSV: a CR-only upload is stored and reads back as its points', async () => {
  const { app, close } = await testApp();
  try {
    const res = await app.inject({ method: 'POST', url: '/curves?name=mac', headers: { 'content-type': 'text/csv' }, payload: 'step,lr,loss\r0,1e-3,4.5\r100,9e-4,4.1\r' });
    assert.equal(res.statusCode, 201, res.body);
    const back = (await app.inject({ method: 'GET', url: `/curves/${res.json().id}` })).json();
    assert.deepStrictEqual(back.points, [
      { step: 0, loss: 4.5, lr: 1e-3 },
      { step: 100, loss: 4.1, lr: 9e-4 },
    ]);
  } finally {
    await close();
  }
});
