/**
 * Unit-free fits: the units of the learning rates and of the loss carry no information, so
 * multiplying every lr of the fitted and the predicted schedules by 10 (or 0.1) must give the same
 * predictions, and multiplying every loss by 10 predictions x 10. Real
 * fixtures (25M, upstream protocol); the default procedure and lra.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitLaw, FitInputError, type FitCurve, type FitOptions } from '../src/fit/index.js';
import { publishedSplit } from '../src/fixtures/luo2025.js';
import { getLaw } from '../src/laws/index.js';
import type { LawId } from '../src/laws/law.js';

const scaled = (curve: FitCurve, factor: number): FitCurve => ({ ...curve, lrs: curve.lrs.map((lr) => lr * factor) });

function predictions(law: LawId, train: FitCurve[], test: FitCurve[], options: FitOptions): number[] {
  const report = fitLaw({ law, curves: train, options: { ...options, leaveOneOut: false } });
  const params = report.params.map((p) => p.value);
  return test.flatMap((c) => Array.from(getLaw(law).predict(c.lrs, c.steps, params)));
}

function maxRelativeDifference(a: number[], b: number[]): number {
  assert.equal(a.length, b.length);
  return a.reduce((worst, x, i) => Math.max(worst, Math.abs(x - b[i]!) / Math.abs(x)), 0);
}

for (const [law, options] of [
  ['mpl', {}],
  ['lra', {}],
] as const) {
  test(`${law} ${JSON.stringify(options)}: every lr x 10 or x 0.1 gives the same predictions (1e-6 relative)`, () => {
    const { train, test: held } = publishedSplit('25M');
    const base = predictions(law, train, held, options);
    for (const factor of [10, 0.1]) {
      const other = predictions(law, train.map((c) => scaled(c, factor)), held.map((c) => scaled(c, factor)), options);
      const diff = maxRelativeDifference(base, other);
      assert.ok(diff < 1e-6, `x${factor}: max relative difference ${diff}`);
    }
  });
}

test('rescaleLr: params for lrs x k predict on lrs as the params predict on k x lrs', () => {
  const { train } = publishedSplit('25M');
  const curve = train[0]!;
  for (const [id, params] of [
    ['mpl', [3.04, 0.52, 0.51, 364, 2.07, 0.58, 0.64]],
    ['lra', [3.0, 0.5, 0.5, 300]],
  ] as const) {
    const law = getLaw(id);
    const onScaled = law.predict(curve.lrs.map((lr) => lr * 7), curve.steps, params);
    const onRaw = law.predict(curve.lrs, curve.steps, law.rescaleLr(params, 7));
    for (let i = 0; i < onRaw.length; i++) assert.ok(Math.abs(onRaw[i]! - onScaled[i]!) < 1e-9 * onScaled[i]!, `${id} point ${i}`);
  }
});

test('bounds on a unit-dependent param need units "absolute"', () => {
  const { train } = publishedSplit('25M');
  assert.throws(
    () => fitLaw({ law: 'mpl', curves: train, options: { bounds: { B: [0, 1000] }, leaveOneOut: false } }),
    (error: unknown) => error instanceof FitInputError && error.field === 'options.bounds.B',
  );
});

test("mpl and lra defaults: every loss x 10 gives predictions x 10 (1e-6 relative)", () => {
  const { train, test: held } = publishedSplit('25M');
  for (const law of ['mpl', 'lra'] as const) {
    const base = predictions(law, train, held, {});
    const tenfold = predictions(law, train.map((c) => ({ ...c, loss: c.loss.map((y) => y * 10) })), held, {}).map((y) => y / 10);
    const diff = maxRelativeDifference(base, tenfold);
    assert.ok(diff < 1e-6, `${law}: max relative difference ${diff}`);
  }
});
