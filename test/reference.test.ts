/**
 * method 'reference': the published reference fitting procedure (src/fit/reference.ts) reproduces the
 * published params and test table on the fixtures' 3-curve protocol. Plus its wiring through fitLaw,
 * the options it refuses, and POST /fit. No timing assertions (bench/fit.ts prints the time).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fitLaw, evaluateMetrics, FitInputError, prepareCurve } from '../src/fit/index.js';
import { publishedSplit, PUBLISHED } from '../src/fixtures/luo2025.js';
import { fitReference } from '../src/fit/reference.js';
import { meanMetrics } from '../src/laws/metrics.js';
import { mplLaw } from '../src/laws/mpl/index.js';
import { testApp } from './helpers.js';

/** Decimals printed in the published table (fixtures/README.md). */
const DIGITS = { r2: 4, mae: 5, rmse: 5, predE: 5, worstE: 5 } as const;

const maxRelative = (params: ArrayLike<number>, published: readonly number[]) =>
  Math.max(...published.map((p, j) => Math.abs(params[j]! - p) / Math.abs(p)));

const fits = new Map<string, ReturnType<typeof fitReference>>();
const referenceFit = (size: '25M' | '100M') => {
  if (!fits.has(size)) fits.set(size, fitReference(publishedSplit(size).train));
  return fits.get(size)!;
};

for (const size of ['25M', '100M'] as const) {
  test(`${size}: the reference procedure gives the published params within 1e-4 relative`, () => {
    const fit = referenceFit(size);
    assert.equal(fit.converged, true);
    assert.ok(fit.iterations > 21 && fit.iterations < 200, `iterations ${fit.iterations}`);
    const deviation = maxRelative(fit.params, PUBLISHED[size].params);
    assert.ok(deviation < 1e-4, `max relative deviation ${deviation}: [${Array.from(fit.params).join(', ')}]`);
  });

  test(`${size}: the reference fit reproduces the published test table at its printed digits`, () => {
    const { test: testCurves } = publishedSplit(size);
    assert.equal(testCurves.length, 6);
    const fit = referenceFit(size);
    const mean = meanMetrics(testCurves.map((c) => evaluateMetrics('mpl', Array.from(fit.params), c)));
    const published = PUBLISHED[size].metrics;
    for (const [key, digits] of Object.entries(DIGITS) as [keyof typeof DIGITS, number][]) {
      assert.equal(Number(mean[key].toFixed(digits)), published[key], `${key}: ${mean[key]} vs published ${published[key]}`);
    }
  });
}

test('fitLaw method reference: the same params as fitReference, notes, refusals of options it does not use', () => {
  const { train } = publishedSplit('100M');
  const report = fitLaw({ law: 'mpl', curves: train, options: { method: 'reference', leaveOneOut: false } });
  assert.deepEqual(report.params.map((p) => p.value), Array.from(referenceFit('100M').params));
  assert.ok(maxRelative(report.params.map((p) => p.value), PUBLISHED['100M'].params) < 1e-4);
  assert.equal(report.converged, true);
  assert.equal(report.iterations, referenceFit('100M').iterations);
  assert.ok(report.notes.some((n) => n.includes('method reference')));
  assert.ok(report.notes.some((n) => n.includes('reference AdamW')));
  for (const p of report.params) assert.ok(Number.isFinite(p.stderr) && p.stderr >= 0, `${p.name} stderr ${p.stderr}`);
  // PreparedCurves (even binned ones) give the same fit: the reference always takes every raw point.
  const binned = fitReference(train.map((c) => prepareCurve(c, 0, 20)));
  assert.deepEqual(Array.from(binned.params), Array.from(referenceFit('100M').params));
  for (const options of [{ adamIterations: 10 }, { starts: 4 }, { seed: 2 }, { maxIterations: 5 }, { huberDelta: 0.01 }, { curveWeighting: 'equal' as const }, { maxPoints: 50 }]) {
    const name = Object.keys(options)[0]!;
    assert.throws(
      () => fitLaw({ law: 'mpl', curves: train, options: { method: 'reference', leaveOneOut: false, ...options } }),
      (error: unknown) => error instanceof FitInputError && error.field === `options.${name}` && /method "reference"/.test(error.message),
      name,
    );
  }
  assert.throws(() => fitLaw({ law: 'lra', curves: train, options: { method: 'reference' } }), (e: unknown) => e instanceof FitInputError && e.field === 'options.method');
});

test('fitReference: fromStep drops the earlier points; a single curve fits', () => {
  const { train } = publishedSplit('25M');
  const late = fitReference(train, { fromStep: 5000 });
  assert.ok(late.points < referenceFit('25M').points);
  assert.ok(late.params.every(Number.isFinite));
  const one = fitReference([train[0]!]);
  assert.ok(one.params.every(Number.isFinite) && Number.isFinite(one.objective));
});

test('fitLaw method reference fits every raw point of a dense curve (no binning)', () => {
  const cosine = publishedSplit('25M').train.find((c) => c.shortName === 'cosine_24000')!;
  const steps = Array.from({ length: 1200 }, (_, i) => 2160 + i * 18);
  const loss = Array.from(mplLaw.predict(cosine.lrs, steps, PUBLISHED['25M'].params), (y, i) => y * (1 + 0.002 * Math.sin(i)));
  const report = fitLaw({ law: 'mpl', curves: [{ ...cosine, steps, loss }], options: { method: 'reference' } });
  assert.deepEqual(report.points, { used: 1200, given: 1200 });
  assert.ok(!report.notes.some((n) => n.includes('bin-averaged')));
  assert.ok(report.notes.some((n) => n.includes('1200 raw points')));
  assert.ok(report.params.every((p) => Number.isFinite(p.value)));
});

let ctx: Awaited<ReturnType<typeof testApp>> | undefined;
after(async () => ctx?.close());

test('POST /fit accepts method reference and refuses the options it does not use (400 naming them)', async () => {
  ctx = await testApp({ seed: true });
  const list = (await ctx.app.inject({ url: '/curves?limit=100' })).json();
  const ids = Object.fromEntries(list.items.map((c: { name: string; id: number }) => [c.name, c.id]));
  const curveIds = ['25M/cosine_24000', '25M/constant_24000', '25M/wsdcon_9'].map((n) => ids[n]!);
  const refused = await ctx.app.inject({ method: 'POST', url: '/fit', payload: { curveIds, law: 'mpl', options: { method: 'reference', adamLearningRate: 0.1 } } });
  assert.equal(refused.statusCode, 400, refused.body);
  assert.match(refused.body, /options\.adamLearningRate/);
  const res = await ctx.app.inject({ method: 'POST', url: '/fit', payload: { curveIds, law: 'mpl', options: { method: 'reference', leaveOneOut: false } } });
  assert.equal(res.statusCode, 201, res.body);
  const values = res.json().params.map((p: { value: number }) => p.value);
  assert.ok(maxRelative(values, PUBLISHED['25M'].params) < 1e-4, `params ${values}`);
});
