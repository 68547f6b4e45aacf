/** The fit worker pool: leave-one-out folds as background tasks behind main fits, and their cancellation. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitLaw, type FitRequest } from '../src/fit/index.js';
import { loadFixtureCurves } from '../src/fixtures/luo2025.js';
import { FitPool } from '../src/workers/fit-pool.js';

const NAMES = ['25M/cosine_24000', '25M/constant_24000', '25M/wsdcon_9'];
const curves = loadFixtureCurves('25M').filter((c) => NAMES.includes(c.name));
const short: FitRequest = { law: 'mpl', curves, options: { method: 'adam', adamIterations: 60 } };

test("a later fit's main task starts before the queued leave-one-out folds of an earlier fit; the folds give fitLaw's metrics", async () => {
  const pool = new FitPool(1);
  try {
    const order: string[] = [];
    const loo = pool.leaveOneOut(short); // fold 0 takes the only worker; folds 1 and 2 wait
    const folds = loo.done.then((metrics) => (order.push('folds'), metrics));
    let started = false;
    const main = pool.run({ ...short, options: { ...short.options, leaveOneOut: false } }, { onStart: () => (started = true) }).then((report) => (order.push('main'), report));
    assert.equal(started, false, 'the worker is busy with fold 0');
    const [report, metrics] = await Promise.all([main, folds]);
    // In arrival order the main fit would end after all three folds.
    assert.deepEqual(order, ['main', 'folds']);
    const library = fitLaw(short);
    assert.deepEqual(report.params, library.params);
    assert.equal(report.leaveOneOut, undefined);
    assert.deepEqual(metrics, library.leaveOneOut!.curves);
  } finally {
    await pool.close();
  }
});

test('cancelling leave-one-out drops its queued folds and stops the running one at once', async () => {
  const pool = new FitPool(1);
  try {
    const loo = pool.leaveOneOut({ ...short, options: { method: 'adam', adamIterations: 100000 } });
    await new Promise((resolve) => setTimeout(resolve, 200));
    loo.cancel(new Error('the fit was deleted'));
    await assert.rejects(loo.done, /the fit was deleted/);
    let started = false;
    const next = pool.run({ ...short, options: { ...short.options, leaveOneOut: false } }, { onStart: () => (started = true) });
    assert.equal(started, true, 'the worker is free for the next fit at once');
    assert.equal((await next).iterations, 60);
  } finally {
    await pool.close();
  }
});

test('the main fit alone: progress up to 1, wall time, input errors; aborting stops it', async () => {
  const pool = new FitPool(1);
  try {
    const progress: number[] = [];
    const report = await pool.run({ ...short, options: { method: 'adam', adamIterations: 300 } }, { onProgress: (p) => progress.push(p) });
    assert.equal(progress.at(-1), 1);
    for (let i = 1; i < progress.length; i++) assert.ok(progress[i]! >= progress[i - 1]!);
    assert.ok(report.wallMs > 0);
    await assert.rejects(pool.run({ ...short, options: { fromStep: 10_000_000 } }), { name: 'FitInputError' });
    const controller = new AbortController();
    const long = pool.run({ ...short, options: { method: 'adam', adamIterations: 100000 } }, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('client gone')), 100);
    await assert.rejects(long, /client gone/);
  } finally {
    await pool.close();
  }
});
