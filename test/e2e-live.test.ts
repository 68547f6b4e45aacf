/**
 * The dashboard's live view (#/live) follows a run as it trains: a fit of three 25M curves is made
 * through the API, then a held-out 25M run is uploaded with its first 40% of points and its schedule
 * spec as the plan. The view shows the observed loss, the forecast with its 80% band, the plan on the
 * lr chart and the predicted final loss with its interval; points appended through the API move it
 * (event stream) without a reload, and the forecast history grows. Skips only when /usr/bin/chromium
 * is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCurveCsv } from '../src/curves/csv.js';
import { fixtures, fixtureCsv } from './helpers.js';
import { CHROMIUM, haveChromium, seededDashboard } from './e2e/browser.js';

const FIT_CURVES = ['25M/cosine_24000', '25M/constant_24000', '25M/wsd_20000_24000'];
/** The run followed live: a 25M curve the fit has not seen. */
const RUN = '25M/wsdld_20000_24000';

test('dashboard live view: forecast with its 80% band, updating as points arrive', { timeout: 120_000 }, async (t) => {
  if (!haveChromium()) {
    t.skip(`${CHROMIUM} is missing`);
    return;
  }
  const d = await seededDashboard({ viewport: { width: 1280, height: 900 } });
  const { page, api, base, shot, pageErrors, browser } = d;
  t.diagnostic(`screenshots in ${d.shotDir}`);
  try {
    const curveIds = await d.curveIds(...FIT_CURVES);
    const fit = await api('/fit', { curveIds, law: 'mpl' });
    assert.equal(fit.status, 201, JSON.stringify(fit.body).slice(0, 500));
    const fitId = fit.body.id as number;

    // The real run's points; the first 40% uploaded, its schedule spec as the plan.
    const entry = fixtures.find((f) => f.name === RUN)!;
    const cols = parseCurveCsv(fixtureCsv(entry));
    const all = Array.from(cols.steps, (step, i) => ({ step, loss: cols.losses[i]!, lr: cols.lrs![i]! }));
    const cut = Math.round(all.length * 0.4);
    // The warmup is the spec's: without warmupSteps the first logged lr would be held back to step 0.
    const warmupSteps = Number(/warmup=(\d+)/.exec(entry.schedule!)![1]);
    const created = await api('/curves', { name: 'live-run', plannedSchedule: entry.schedule, warmupSteps, points: all.slice(0, cut) });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const runId = created.body.id as number;

    const view = '#view-live';
    const attr = async (name: string) => page.getAttribute(view, name);

    await t.test('pick the run and the fit: observed loss, forecast with its band, the plan, the final loss with its interval', async () => {
      await page.goto(`${base}/#/live`);
      await page.waitForSelector(`${view}:not([hidden])`);
      assert.equal(await page.getAttribute('a[data-view=live]', 'class'), 'active');
      await page.waitForSelector(`[data-testid=live-curve] option[value="${runId}"]`, { state: 'attached' });
      await page.selectOption('[data-testid=live-curve]', String(runId));
      await page.selectOption('[data-testid=live-fit]', String(fitId));
      // The run and fit are in the view's query (beside the shared keys, e.g. the selection `curves`).
      await page.waitForFunction(({ runId, fitId }) => {
        const query = new URLSearchParams(location.hash.split('?')[1] ?? '');
        return location.hash.startsWith('#/live?') && query.get('curve') === String(runId) && query.get('fit') === String(fitId);
      }, { runId, fitId });
      await page.waitForSelector(`${view}[data-last-step="${all[cut - 1]!.step}"]`);
      await page.waitForSelector(`${view} .live-loss[data-bands="1"] canvas`);
      // Observed so far and the forecast of the rest: 2 series (+ the band's 2 edges).
      await page.waitForSelector(`${view} .live-loss[data-series="2"]`);
      await page.waitForSelector(`${view}[data-observed="${cut}"]`);
      const interval = (await page.textContent('[data-testid=live-final-interval]')) ?? '';
      assert.match(interval, /80%/);
      assert.match(interval, /^\(80%: \d\.\d{4}–\d\.\d{4}\)$/);
      // The numbers are the API's.
      const forecast = (await api(`/curves/${runId}/forecast?fit=${fitId}&interval=0.8`)).body;
      assert.equal(Number(await page.getAttribute('[data-testid=live-final]', 'data-value')), forecast.final.loss);
      assert.ok(interval.includes(`${forecast.final.lower.toFixed(4)}–${forecast.final.upper.toFixed(4)}`), `${interval} vs ${JSON.stringify(forecast.final)}`);
      assert.equal(Number(await page.getAttribute('[data-testid=live-final]', 'data-step')), forecast.final.step);
      // The forecast picks up where the run is (the fit's prediction at the last logged step, near the observed loss).
      assert.ok(Math.abs(forecast.loss[0] - all[cut - 1]!.loss) < 0.05, `${forecast.loss[0]} vs ${all[cut - 1]!.loss}`);
      const gap = Number(await page.getAttribute('[data-testid=live-gap]', 'data-value'));
      assert.ok(Math.abs(gap - (forecast.loss[0] - all[cut - 1]!.loss)) < 1e-9, `gap shown ${gap}`);
      // The lr chart: the logged lrs and the plan.
      await page.waitForSelector(`${view} .live-lr[data-series="2"] canvas`);
      assert.equal(await attr('data-mode'), 'stream');
      assert.ok(Number(await attr('data-history')) >= 1);
      t.diagnostic(`live view: ${await shot(page, 'live-40')}`);
    });

    await t.test('points appended through the API move the view without a reload; the history grows', async () => {
      const before = { history: Number(await attr('data-history')) };
      await page.evaluate(() => ((window as any).__liveMarker = 1));
      for (const [from, to] of [
        [cut, Math.round(all.length * 0.6)],
        [Math.round(all.length * 0.6), Math.round(all.length * 0.8)],
      ] as const) {
        const res = await api(`/curves/${runId}/points`, { points: all.slice(from, to) });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.equal(res.body.added, to - from);
        await page.waitForSelector(`${view}[data-last-step="${all[to - 1]!.step}"][data-point-count="${to}"]`);
        await page.waitForSelector(`${view}[data-observed="${to}"]`);
      }
      assert.equal(await page.evaluate(() => (window as any).__liveMarker), 1, 'no reload');
      const after = Number(await attr('data-history'));
      assert.ok(after >= before.history + 2, `history ${before.history} -> ${after}`);
      assert.equal(await page.locator('[data-testid=live-history] li').count(), after);
      // One history entry per forecast after new points, at the last logged step of each.
      const steps = (await page.locator('[data-testid=live-history] li').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.lastStep)))).reverse();
      assert.deepEqual(steps.slice(-3), [cut, Math.round(all.length * 0.6), Math.round(all.length * 0.8)].map((n) => all[n - 1]!.step));
      const forecast = (await api(`/curves/${runId}/forecast?fit=${fitId}&interval=0.8`)).body;
      assert.equal(Number(await page.getAttribute('[data-testid=live-final]', 'data-value')), forecast.final.loss);
      assert.equal(forecast.history.length, after);
      await page.waitForSelector(`${view} .live-loss[data-bands="1"] canvas`);
      assert.match((await page.textContent('[data-testid=live-final-interval]')) ?? '', /80%/);
      await page.waitForSelector('[data-testid=live-moved]');
      t.diagnostic(`live view after appends: ${await shot(page, 'live-80')}`);
    });

    await t.test('#/live?curve=ID&fit=ID opens the run directly', async () => {
      const other = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      other.on('pageerror', (e) => pageErrors.push(e.message));
      try {
        await other.goto(`${base}/#/live?curve=${runId}&fit=${fitId}`);
        await other.waitForSelector(`${view}[data-curve="${runId}"][data-fit="${fitId}"][data-observed="${Math.round(all.length * 0.8)}"]`);
        await other.waitForSelector(`${view} .live-loss[data-bands="1"] canvas`);
        assert.equal(await other.inputValue('[data-testid=live-curve]'), String(runId));
      } finally {
        await other.close();
      }
    });

    await t.test('with a token stored (EventSource cannot send it): polls the forecast instead, and still follows the run', async () => {
      const polling = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      polling.on('pageerror', (e) => pageErrors.push(e.message));
      await polling.addInitScript(() => localStorage.setItem('lrcast.token', 'e2e-token'));
      const streams: string[] = [];
      polling.on('request', (r) => r.url().includes('/events') && streams.push(r.url()));
      try {
        await polling.goto(`${base}/#/live?curve=${runId}&fit=${fitId}`);
        await polling.waitForSelector(`${view}[data-mode=poll][data-point-count="${Math.round(all.length * 0.8)}"]`);
        await polling.waitForSelector(`${view} .live-loss[data-bands="1"] canvas`);
        const res = await api(`/curves/${runId}/points`, { points: all.slice(Math.round(all.length * 0.8), all.length - 1) });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        await polling.waitForSelector(`${view}[data-last-step="${all[all.length - 2]!.step}"][data-observed="${all.length - 1}"]`, { timeout: 10_000 });
        assert.match((await polling.textContent('[data-testid=live-final-interval]')) ?? '', /80%/);
        assert.deepEqual(streams, [], 'no event stream opened');
      } finally {
        await polling.close();
      }
    });

    assert.deepEqual(pageErrors, [], 'no page errors');
  } finally {
    await d.close();
  }
});
