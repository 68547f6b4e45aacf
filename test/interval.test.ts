/**
 * Prediction intervals (src/predict/interval*.ts) on the published 25M/100M protocol (fixtures/
 * mpl-luo2025): fit cosine_24000, constant_24000 and wsdcon_9 with the default method, build the
 * interval basis a stored fit keeps, and predict the six held-out curves with intervals.
 *
 * Sane ranges, not recorded results: the 80% interval covers at least 65% of the held-out points
 * (each curve weighing the same), the 95% interval at least as many and at least 85%, and the mean
 * relative width of the 80% interval stays under 3% (an interval that covers by being huge fails).
 * No upper bound on coverage: the multipliers are cross-validated for runs unlike the calibration's
 * (bench/results/intervals.md), so on this protocol, where the law transfers best, the 80% interval
 * covers nearly every point (about 99-100%) while staying about 1.5% wide.
 * Widths grow with the horizon beyond the longest fitted schedule and never reach 0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitLaw } from '../src/fit/index.js';
import { usablePoints } from '../src/fit/prepare.js';
import { publishedSplit } from '../src/fixtures/luo2025.js';
import { getLaw } from '../src/laws/index.js';
import { expandSchedule } from '../src/schedule/expand.js';
import { intervalBasisOf, type IntervalBasis } from '../src/predict/interval-basis.js';
import { INTERVAL_CALIBRATION, levelMultiplier, MIN_SCALE } from '../src/predict/interval-calibration.js';
import { fitDomainOf, extrapolation } from '../src/predict/interval-domain.js';
import { missingIntervalWarning, predictionInterval } from '../src/predict/interval.js';

const mpl = getLaw('mpl');
const bases = new Map<string, { basis: IntervalBasis; test: ReturnType<typeof publishedSplit>['test'] }>();

/** The default fit of the published protocol for one size and its interval basis (once per size). */
function upstream(size: '25M' | '100M') {
  let entry = bases.get(size);
  if (!entry) {
    const { train, test } = publishedSplit(size);
    const request = { law: 'mpl' as const, curves: train, options: { leaveOneOut: false } };
    entry = { basis: intervalBasisOf(request, fitLaw(request)), test };
    bases.set(size, entry);
  }
  return entry;
}

const relativeWidth = (iv: { lower: Float64Array; upper: Float64Array; loss: Float64Array }) => Array.from(iv.loss, (p, i) => (iv.upper[i]! - iv.lower[i]!) / p);

for (const size of ['25M', '100M'] as const) {
  test(`${size} upstream protocol: the intervals cover the held-out curves at sane rates, with sane widths`, () => {
    const { basis, test: targets } = upstream(size);
    const cover = { 0.8: 0, 0.95: 0 };
    let width80 = 0;
    for (const curve of targets) {
      const { steps, loss } = usablePoints(curve);
      for (const level of [0.8, 0.95] as const) {
        const iv = predictionInterval(mpl, basis, curve.lrs, steps, level);
        const inside = loss.filter((y, i) => y >= iv.lower[i]! && y <= iv.upper[i]!).length;
        cover[level] += inside / loss.length / targets.length;
        if (level === 0.8) width80 += relativeWidth(iv).reduce((a, b) => a + b, 0) / loss.length / targets.length;
      }
    }
    const text = `80%: ${(100 * cover[0.8]).toFixed(1)}% covered, 95%: ${(100 * cover[0.95]).toFixed(1)}%, mean width of the 80% interval ${(100 * width80).toFixed(2)}%`;
    assert.ok(cover[0.8] >= 0.65, text);
    assert.ok(cover[0.95] >= cover[0.8] && cover[0.95] >= 0.85, text);
    assert.ok(width80 > 0 && width80 < 0.03, text);
  });
}

test('widths grow monotonically with the horizon beyond the longest fitted schedule', () => {
  const { basis } = upstream('25M');
  assert.equal(basis.domain.maxSteps, 24000);
  // One schedule, steps further and further beyond the fitted 24,000.
  const lrs = expandSchedule('constant:peak=3e-4,warmup=2160,total=120000');
  const steps = Array.from({ length: 97 }, (_, i) => 23999 + 1000 * i);
  for (const level of [0.8, 0.95]) {
    const width = relativeWidth(predictionInterval(mpl, basis, lrs, steps, level));
    for (let i = 1; i < width.length; i++) assert.ok(width[i]! >= width[i - 1]! * (1 - 1e-12), `level ${level}: width ${width[i]} at step ${steps[i]} < ${width[i - 1]} at ${steps[i - 1]}`);
    assert.ok(width[width.length - 1]! > width[0]! * 1.05, `level ${level}: ${width[0]} at the fitted horizon, ${width[width.length - 1]} at 5x`);
  }
  // The same schedule family run longer: the final loss's interval widens with the run's length.
  const finals = [24000, 48000, 72000, 96000, 120000].map((total) => {
    const cosine = expandSchedule(`cosine:peak=3e-4,warmup=2160,total=${total},final=3e-5`);
    return relativeWidth(predictionInterval(mpl, basis, cosine, [total - 1], 0.8))[0]!;
  });
  for (let i = 1; i < finals.length; i++) assert.ok(finals[i]! > finals[i - 1]!, `final-loss widths ${finals.join(', ')}`);
});

test('an interval never collapses: width > 0 at every step, on the fitted curves themselves too', () => {
  const { basis } = upstream('25M');
  const { train } = publishedSplit('25M');
  const floor = 2 * Math.sinh(levelMultiplier(0.8) * MIN_SCALE);
  for (const curve of [...train, { lrs: expandSchedule('wsd:peak=3e-4,warmup=2160,total=30000,decayStart=24000,final=3e-5,shape=linear') }]) {
    const steps = Array.from({ length: curve.lrs.length - 1 }, (_, i) => i + 1).filter((s) => s % 7 === 0 || s === curve.lrs.length - 1);
    const iv = predictionInterval(mpl, basis, curve.lrs, steps, 0.8);
    relativeWidth(iv).forEach((w, i) => {
      assert.ok(Number.isFinite(w) && w >= floor * (1 - 1e-9), `width ${w} at step ${steps[i]}`);
      assert.ok(iv.lower[i]! < iv.loss[i]! && iv.loss[i]! < iv.upper[i]!);
    });
  }
});

test('the interval needs only the stored basis (JSON round trip), and its Jacobian subset tracks the exact variance', () => {
  const { basis, test: targets } = upstream('100M');
  const stored = JSON.parse(JSON.stringify(basis)) as IntervalBasis;
  const curve = targets.find((c) => c.shortName === 'cosine_72000')!;
  const steps = Array.from({ length: 500 }, (_, i) => Math.round(1 + (i * (curve.lrs.length - 2)) / 499));
  const a = predictionInterval(mpl, basis, curve.lrs, steps, 0.95);
  const b = predictionInterval(mpl, stored, curve.lrs, steps, 0.95);
  assert.deepEqual(Array.from(b.upper), Array.from(a.upper));
  const exact = predictionInterval(mpl, basis, curve.lrs, steps, 0.95, { jacobianPoints: Infinity });
  const wa = relativeWidth(a);
  const we = relativeWidth(exact);
  wa.forEach((w, i) => assert.ok(Math.abs(w - we[i]!) <= 0.05 * we[i]!, `step ${steps[i]}: ${w} vs exact ${we[i]}`));
  // The prediction given by the caller is used as it is.
  const given = predictionInterval(mpl, basis, curve.lrs, steps, 0.95, { loss: a.loss });
  assert.deepEqual(Array.from(given.lower), Array.from(a.lower));
});

test('levels: k(0.8) and k(0.95) are the calibrated multipliers, k grows with the level, levels outside (0, 1) are refused', () => {
  assert.ok(Math.abs(levelMultiplier(0.8) - INTERVAL_CALIBRATION.k80) < 1e-12);
  assert.ok(Math.abs(levelMultiplier(0.95) - INTERVAL_CALIBRATION.k95) < 1e-9);
  let previous = 0;
  for (const level of [0.1, 0.5, 0.8, 0.9, 0.95, 0.99, 0.999]) {
    const k = levelMultiplier(level);
    assert.ok(k > previous, `k(${level}) = ${k}`);
    previous = k;
  }
  for (const bad of [0, 1, -0.5, 1.5, NaN]) assert.throws(() => levelMultiplier(bad), RangeError);
  const { basis, test: targets } = upstream('25M');
  assert.throws(() => predictionInterval(mpl, basis, targets[0]!.lrs, [100], 1), RangeError);
});

test('covariates: 0 on a fitted curve, shape and peak grow away from the fitted schedules', () => {
  const { train } = publishedSplit('25M');
  const domain = fitDomainOf(train);
  const cosine = train.find((c) => c.shortName === 'cosine_24000')!;
  const on = extrapolation(domain, cosine.lrs, [5000, 12000, 23999], 1);
  assert.deepEqual(Array.from(on.horizon), [0, 0, 0]);
  assert.equal(on.peak, 0);
  for (const d of on.shape) assert.ok(d < 0.02, `shape ${d} on a fitted curve`);
  // Twice the peak: a peak covariate of ln 2 (less the tolerance) and a larger shape distance.
  const doubled = extrapolation(domain, cosine.lrs.map((v) => 2 * v), [5000, 12000, 23999], 1);
  assert.ok(Math.abs(doubled.peak - (Math.log(2) - 0.01)) < 1e-9);
  for (const [i, d] of doubled.shape.entries()) assert.ok(d > on.shape[i]! + 0.1, `shape ${d} at twice the peak`);
  assert.ok(doubled.shape[0]! > 0.8, `shape ${doubled.shape[0]} at step 5000, twice the peak`);
});

test('an lra fit gets intervals from the same basis (finite, positive width)', () => {
  const { train, test: targets } = publishedSplit('25M');
  // A cheap lra fit (100 points a curve, 60 iterations: the same params to 4 digits, in a fraction of the time).
  const request = { law: 'lra' as const, curves: train, options: { leaveOneOut: false, maxPoints: 100, maxIterations: 60 } };
  const basis = intervalBasisOf(request, fitLaw(request));
  assert.equal(basis.covariance.length, 4);
  const curve = targets[0]!;
  const { steps } = usablePoints(curve);
  const iv = predictionInterval(getLaw('lra'), basis, curve.lrs, steps, 0.8);
  for (const w of relativeWidth(iv)) assert.ok(Number.isFinite(w) && w > 0);
});

test('no zero-width or NaN interval around a meaningless prediction: null bounds where the loss is <= 0 or not finite, counted and warned', () => {
  const { basis } = upstream('25M');
  const lrs = expandSchedule('wsd:peak=3e-4,warmup=2160,total=24000,decayStart=20000,final=3e-5,shape=exp');
  const steps = [0, 100, 12000, 23999];
  const real = predictionInterval(mpl, basis, lrs, steps, 0.8);
  // Step 0 of a warmup from 0: S(s) = 0, the loss is infinite: no interval, not counted (the loss itself is null).
  assert.equal(real.loss[0], Infinity);
  assert.ok(Number.isNaN(real.lower[0]!) && Number.isNaN(real.upper[0]!));
  assert.equal(real.missing, 0);
  assert.equal(missingIntervalWarning(real.missing, steps.length), undefined);
  for (let i = 1; i < steps.length; i++) assert.ok(real.lower[i]! < real.loss[i]! && real.loss[i]! < real.upper[i]!);
  // Synthetic params (said so: L0 shifted down by 30, as params that do not suit a schedule can drive the law
  // to or below 0): the same covariance, a loss below 0 at every step. The old interval was pred * exp(+-k sigma)
  // of a negative number (upper below lower) or, at 0, of zero width.
  const shifted = { ...basis, params: [basis.params[0]! - 30, ...basis.params.slice(1)] };
  const negative = predictionInterval(mpl, shifted, lrs, steps, 0.95);
  for (let i = 1; i < steps.length; i++) {
    assert.ok(negative.loss[i]! < 0, `loss ${negative.loss[i]} at step ${steps[i]}`);
    assert.ok(Number.isNaN(negative.lower[i]!) && Number.isNaN(negative.upper[i]!));
  }
  assert.equal(negative.missing, 3);
  assert.match(missingIntervalWarning(negative.missing, steps.length)!, /no interval \(null lower and upper\) at 3 of 4 step\(s\)/);
  // A given prediction of exactly 0, and NaN: no interval either.
  const given = predictionInterval(mpl, basis, lrs, [12000, 23999], 0.8, { loss: [0, NaN] });
  assert.ok([...given.lower, ...given.upper].every(Number.isNaN));
  assert.equal(given.missing, 1);
  // Far extrapolation with positive predictions keeps finite, positive widths (no null).
  const long = expandSchedule('cosine:peak=3e-4,warmup=2160,total=2400000,final=3e-5');
  const far = predictionInterval(mpl, basis, long, [24000, 240000, 2399999], 0.95);
  assert.equal(far.missing, 0);
  relativeWidth(far).forEach((w) => assert.ok(Number.isFinite(w) && w > 0, String(w)));
});
