/**
 * Laws: the fast MPL evaluator against the direct sum on every fixture schedule, analytic
 * Jacobians against finite differences (synthetic params, real schedules), the lra law on a
 * synthetic schedule, and the metric conventions against the published table (real fixtures).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandSchedule, evenSteps } from '../src/schedule/expand.js';
import { getLaw, LAWS } from '../src/laws/index.js';
import { mplLaw, predictMpl, predictMplDirect, predictMplWithJacobian } from '../src/laws/mpl/index.js';
import { lraLaw, annealingArea } from '../src/laws/lra.js';
import { curveMetrics, meanMetrics } from '../src/laws/metrics.js';
import { loadFixtureCurves, publishedSplit, PUBLISHED } from '../src/fixtures/luo2025.js';

const P25 = PUBLISHED['25M'].params;

test('registry', () => {
  assert.equal(getLaw('mpl'), mplLaw);
  assert.equal(getLaw('lra'), lraLaw);
  assert.deepEqual(Object.keys(LAWS).sort(), ['lra', 'mpl']);
  assert.throws(() => getLaw('nope'), /unknown law/);
});

test('fast MPL equals the direct sum on all 18 fixture schedules (rel <= 1e-7)', () => {
  let worst = 0;
  for (const curve of loadFixtureCurves()) {
    const params = curve.modelSize === '25M' ? P25 : PUBLISHED['100M'].params;
    const fast = predictMpl(curve.lrs, curve.steps, params);
    const direct = predictMplDirect(curve.lrs, curve.steps, params);
    for (let i = 0; i < fast.length; i++) worst = Math.max(worst, Math.abs(fast[i]! - direct[i]!) / Math.abs(direct[i]!));
  }
  assert.ok(worst <= 1e-7, `max relative difference ${worst}`);
});

test('fast MPL Jacobian equals the direct analytic Jacobian (rel 1e-6 of the column scale)', () => {
  for (const curve of loadFixtureCurves('25M')) {
    const fast = predictMplWithJacobian(curve.lrs, curve.steps, P25);
    const direct = predictMplWithJacobian(curve.lrs, curve.steps, P25, { direct: true });
    for (let j = 0; j < 7; j++) {
      let scale = 0;
      for (let i = 0; i < curve.steps.length; i++) scale = Math.max(scale, Math.abs(direct.jacobian[i * 7 + j]!));
      for (let i = 0; i < curve.steps.length; i++) {
        assert.ok(Math.abs(fast.jacobian[i * 7 + j]! - direct.jacobian[i * 7 + j]!) <= 1e-6 * scale + 1e-15, `${curve.name} param ${j} row ${i}`);
      }
    }
  }
});

/** Central finite differences of `predict` w.r.t. each param. */
function finiteDifferences(predict: (p: number[]) => Float64Array, params: number[], rows: number): Float64Array {
  const P = params.length;
  const out = new Float64Array(rows * P);
  for (let j = 0; j < P; j++) {
    const h = 1e-6 * Math.max(1, Math.abs(params[j]!));
    const up = predict(params.map((v, k) => (k === j ? v + h : v)));
    const down = predict(params.map((v, k) => (k === j ? v - h : v)));
    for (let i = 0; i < rows; i++) out[i * P + j] = (up[i]! - down[i]!) / (2 * h);
  }
  return out;
}

test('MPL analytic derivatives match finite differences (real schedules, several param sets)', () => {
  const schedules = [
    'cosine:peak=3e-4,warmup=2160,total=24000,final=3e-5',
    'step:peak=3e-4,warmup=2160,total=16000,at=8000,to=9e-5',
    'wsd:peak=3e-4,warmup=2160,total=24000,decayStart=20000,final=3e-5,shape=linear',
  ];
  const paramSets = [P25, [2.6, 0.6, 0.45, 600, 0.05, 0.25, 1.2], [3, 0.5, 0.5, 300, 20, 1.5, 0.3]];
  for (const spec of schedules) {
    const lrs = expandSchedule(spec);
    const steps = evenSteps(lrs.length, 40).filter((s) => s > 0);
    for (const params of paramSets) {
      for (const direct of [false, true]) {
        const { jacobian } = predictMplWithJacobian(lrs, steps, params, { direct });
        const fd = finiteDifferences((p) => predictMpl(lrs, steps, p, { direct: true }), [...params], steps.length);
        for (let k = 0; k < fd.length; k++) {
          assert.ok(Math.abs(jacobian[k]! - fd[k]!) <= 1e-5 * (Math.abs(fd[k]!) + 1e-4), `${spec} ${params} entry ${k}: ${jacobian[k]} vs ${fd[k]}`);
        }
      }
    }
  }
});

test('MPL formula on a tiny synthetic schedule (hand-computed)', () => {
  // Synthetic: lr = [0, 1e-3, 2e-3, 1e-3]; prediction at step 3 by the formula written out.
  const lrs = Float64Array.from([0, 1e-3, 2e-3, 1e-3]);
  const [L0, A, alpha, B, C, beta, gamma] = [2, 0.5, 0.4, 100, 3, 0.6, 0.5];
  const S = [0, 1e-3, 3e-3, 4e-3];
  let drop = 0;
  for (let k = 1; k <= 3; k++) drop += (lrs[k]! - lrs[k - 1]!) * (1 - (1 + C * lrs[k]! ** -gamma * (S[3]! - S[k - 1]!)) ** -beta);
  const expected = L0 + A * S[3]! ** -alpha + B * drop;
  const got = predictMpl(lrs, [3], [L0, A, alpha, B, C, beta, gamma]);
  assert.ok(Math.abs(got[0]! - expected) < 1e-12);
  assert.equal(predictMpl(lrs, [0], [L0, A, alpha, B, C, beta, gamma])[0], Infinity);
});

test('MPL with a zero lr step and an lr that returns to a plateau', () => {
  const lrs = expandSchedule('piecewise:0=0;10=1e-3;50=1e-3;60=0;80=0;90=5e-4;120=5e-4');
  const steps = [5, 30, 55, 60, 70, 85, 100, 120];
  const fast = predictMpl(lrs, steps, P25);
  const direct = predictMplDirect(lrs, steps, P25);
  for (let i = 0; i < steps.length; i++) assert.ok(Math.abs(fast[i]! - direct[i]!) <= 1e-9 * Math.abs(direct[i]!), `step ${steps[i]}`);
});

test('lra: annealing area and Jacobian (synthetic schedule)', () => {
  const lrs = Float64Array.from([0, 1e-3, 1e-3, 5e-4, 2e-4]);
  const area = annealingArea(lrs, 0.5);
  // m1 = -1e-3, m2 = -5e-4, m3 = 0.5*-5e-4 + 5e-4 = 2.5e-4, m4 = 1.25e-4 + 3e-4 = 4.25e-4
  const expected = [0, -1e-3, -1.5e-3, -1.25e-3, -0.825e-3];
  expected.forEach((v, i) => assert.ok(Math.abs(area[i]! - v) < 1e-15));
  const params = [2, 0.5, 0.4, 3];
  const { jacobian } = lraLaw.predictWithJacobian(lrs, [1, 2, 3, 4], params, { lambda: 0.5 });
  const fd = finiteDifferences((p) => lraLaw.predict(lrs, [1, 2, 3, 4], p, { lambda: 0.5 }), params, 4);
  for (let k = 0; k < fd.length; k++) assert.ok(Math.abs(jacobian[k]! - fd[k]!) <= 1e-6 * (Math.abs(fd[k]!) + 1e-6));
});

test('metrics: definitions on a small example', () => {
  const m = curveMetrics([2, 3, 5], [2, 4, 4]);
  assert.equal(m.mae, 2 / 3);
  assert.ok(Math.abs(m.rmse - Math.sqrt(2 / 3)) < 1e-15);
  assert.ok(Math.abs(m.predE - (0 + 0.25 + 0.25) / 3) < 1e-15);
  assert.equal(m.worstE, 0.25);
  // SS_tot about the mean 10/3: (4/3)^2 + 2 (2/3)^2 = 24/9; R2 = 1 - 2 / (24/9)
  assert.ok(Math.abs(m.r2 - (1 - 2 / (24 / 9))) < 1e-12);
});

/** Equal at the printed digits: `value` rounds to `printed` with its number of decimals. */
function samePrinted(value: number, printed: string): boolean {
  const decimals = printed.split('.')[1]!.length;
  return value.toFixed(decimals) === printed;
}

test('convention check: published params reproduce the published test table (real fixtures)', () => {
  const table = {
    '25M': { r2: '0.9988', mae: '0.00376', rmse: '0.00465', predE: '0.00110', worstE: '0.00409' },
    '100M': { r2: '0.9983', mae: '0.00435', rmse: '0.00592', predE: '0.00142', worstE: '0.00583' },
  } as const;
  for (const size of ['25M', '100M'] as const) {
    const { test: curves } = publishedSplit(size);
    assert.equal(curves.length, 6);
    const mean = meanMetrics(curves.map((c) => curveMetrics(predictMpl(c.lrs, c.steps, PUBLISHED[size].params), c.loss)));
    for (const [name, printed] of Object.entries(table[size])) {
      const value = mean[name as keyof typeof mean];
      assert.ok(samePrinted(value, printed), `${size} ${name}: ${value} vs published ${printed}`);
    }
  }
});
