/**
 * The What-if form's run shape and knot limits (src/dashboard/schedule.ts, DOM-free): a piecewise
 * schedule keeps the run's peak and warmup from the form, a dragged knot is held at that peak (never
 * redefining it), and a piecewise spec read as text defines its own peak explicitly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_STATE, clampKnotLr, formatSpec, parseSpec, piecewiseRun, runShape, type ScheduleState } from '../src/dashboard/schedule.js';

const piecewise = (knots: [number, number][], peak = '3e-4', warmup = '2160'): ScheduleState => ({ ...DEFAULT_STATE, family: 'piecewise', peak, warmup, knots });

test('a piecewise schedule keeps the run’s peak and warmup; its length is its last knot + 1', () => {
  const s = piecewise([[0, 0], [2159, 3e-4], [12000, 1e-4], [23999, 3e-5]]);
  assert.deepEqual(runShape(s), { total: 24000, peak: 3e-4, warmup: 2160 });
  // A knot dragged down from the peak does not lower the run's peak, nor move the warmup.
  s.knots[1] = [2159, 2e-4];
  assert.deepEqual(runShape(s), { total: 24000, peak: 3e-4, warmup: 2160 });
  // A warmup longer than the knots allow is held within the run.
  assert.equal(runShape(piecewise([[0, 0], [10, 3e-4], [99, 1e-5]], '3e-4', '500')).warmup, 98);
  assert.deepEqual(runShape({ ...DEFAULT_STATE }), { total: 24000, peak: 3e-4, warmup: 2160 });
});

test('a knot above the peak is held at it; below, it keeps 3 significant digits', () => {
  const s = piecewise([[0, 0], [2159, 3e-4], [23999, 3e-5]]);
  assert.deepEqual(clampKnotLr(5e-4, s), { lr: 3e-4, clamped: true });
  assert.deepEqual(clampKnotLr(3e-4, s), { lr: 3e-4, clamped: false });
  assert.deepEqual(clampKnotLr(1.23456e-4, s), { lr: 1.23e-4, clamped: false });
  assert.deepEqual(clampKnotLr(-1e-5, s), { lr: 0, clamped: false });
});

test('a piecewise spec read as text defines its run: highest knot = peak, the step after its first knot there = warmup', () => {
  const s = parseSpec('piecewise:0=0;999=0.001;5000=0.0002;9999=0', { ...DEFAULT_STATE, knots: [] });
  assert.equal(s.family, 'piecewise');
  assert.deepEqual(piecewiseRun(s), { peak: '0.001', warmup: '1000' });
  Object.assign(s, piecewiseRun(s));
  assert.deepEqual(runShape(s), { total: 10000, peak: 1e-3, warmup: 1000 });
  assert.equal(formatSpec(s), 'piecewise:0=0;999=0.001;5000=0.0002;9999=0');
});

test('a piecewise spec keeps its exact knot values (an optimized schedule opened from a link predicts as optimized)', () => {
  const exact = 'piecewise:0=0;2159=0.0003;9000=0.000218734512345;23999=0.0000301234567891';
  const s = parseSpec(exact, { ...DEFAULT_STATE, knots: [] });
  assert.equal(formatSpec(s), exact);
});
