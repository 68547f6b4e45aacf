/**
 * The dashboard's URL restores what the user saw (src/dashboard/README.md: Shared URL state), in real
 * Chromium against the real server seeded with the demo curves: a chart's log axis (`log=`) survives
 * a reload and a tab round trip; a finished optimization (`job=`) is shown again after a reload with
 * the API's numbers, drawn for the request it ran with even when the form changed since; a job still
 * queued is re-attached and its result shown when it ends; a cancelled job and one that does not
 * exist leave a short note and `job=` leaves the URL. Skips only when /usr/bin/chromium is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dashboardForTest } from './e2e/browser.js';

const FIT_CURVES = ['25M/cosine_24000', '25M/constant_24000', '25M/wsdcon_9'];
/** Generous: the machine may be busy with other test runs. */
const LONG = 3 * 60_000;

test('dashboard URL state: log axes and the optimize result survive a reload', { timeout: 10 * 60_000 }, async (t) => {
  const d = await dashboardForTest(t, { viewport: { width: 1440, height: 900 } });
  if (!d) return;
  const { page, api, base, shot } = d;
  const hash = () => page.evaluate(() => location.hash);
  /** A fresh page load of `url` (not a same-document hash change). */
  const load = async (url: string) => {
    await page.goto('about:blank');
    await page.goto(url);
    await page.waitForSelector('body[data-ready="1"]');
  };
  /** The number cards of the optimize result as shown. */
  const cards = () =>
    page.$$eval('#view-optimize [data-testid=optimize-result] .card-num', (els) =>
      els.map((el) => ({ id: el.getAttribute('data-testid'), text: el.textContent, value: (el.querySelector('strong') as HTMLElement | null)?.dataset.value ?? null })),
    );
  try {
    const fitCurves = await d.curveIds(...FIT_CURVES);
    const mpl = await api('/fit', { curveIds: fitCurves, law: 'mpl' });
    assert.equal(mpl.status, 201, JSON.stringify(mpl.body).slice(0, 300));
    const fitId = mpl.body.id as number;

    await t.test('log y on a chart: in the URL, kept by a reload and by a tab round trip', async () => {
      await load(base + '/');
      await page.waitForSelector('#view-curves .loss-chart:not(.is-empty) canvas');
      await page.click('#view-curves .loss-chart [data-tool=log-y]');
      await page.waitForFunction(() => /[?&]log=loss-chart:y(&|$)/.test(location.hash));
      await page.reload();
      await page.waitForSelector('body[data-ready="1"]');
      await page.waitForSelector('#view-curves .loss-chart[data-log-y="1"]:not(.is-empty) canvas');
      assert.equal(await page.getAttribute('#view-curves .loss-chart [data-tool=log-y]', 'aria-pressed'), 'true');
      assert.equal(await page.getAttribute('#view-curves .loss-chart', 'data-log-x'), '0');
      assert.equal(await page.getAttribute('#view-curves .lr-chart', 'data-log-y'), '0', 'the other chart stays linear');
      assert.equal(await page.evaluate(() => (window as any).__lrcastCharts.get('loss-chart').scales.y.distr), 3, 'the plot has a log y axis');
      // The tab links carry only the shared keys: the view writes its charts' axes back when shown.
      await page.click('a[data-view=optimize]');
      await page.waitForFunction(() => location.hash.startsWith('#/optimize'));
      assert.doesNotMatch(await hash(), /log=/, 'the optimize charts are linear');
      await page.click('a[data-view=curves]');
      await page.waitForFunction(() => /[?&]log=loss-chart:y(&|$)/.test(location.hash));
      assert.equal(await page.getAttribute('#view-curves .loss-chart', 'data-log-y'), '1');
      await page.click('#view-curves .loss-chart [data-tool=log-y]');
      await page.waitForFunction(() => !location.hash.includes('log='));
      assert.equal(await page.getAttribute('#view-curves .loss-chart', 'data-log-y'), '0');
    });

    await t.test('a finished optimization is shown again after a reload, drawn for the request it ran with', async () => {
      await page.click('a[data-view=optimize]');
      await page.waitForSelector(`[data-testid=optimize-fit] option[value="${fitId}"]`, { state: 'attached' });
      await page.selectOption('[data-testid=optimize-fit]', String(fitId));
      await page.fill('#view-optimize input[name=totalSteps]', '16000');
      await page.fill('#view-optimize input[name=warmupSteps]', '1000');
      await page.fill('[data-testid=budget]', '2');
      await page.selectOption('#view-optimize select[name=space]', 'wsd');
      await page.click('[data-testid=run-optimize]');
      await page.waitForSelector('[data-testid=optimize-progress][data-state=done]', { timeout: LONG });
      const jobId = (await page.getAttribute('[data-testid=optimize-progress]', 'data-job'))!;
      assert.match(await hash(), new RegExp(`[?&]job=${jobId}(&|$)`), 'the run put its job id in the URL');
      const job = (await api(`/jobs/${jobId}`)).body;
      assert.equal(job.status, 'done');
      const r = job.result;
      // Baselines drawn: the optimized curve and the four baselines.
      await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('#view-optimize .opt-loss')?.dataset.series) === 5, undefined, { timeout: LONG });
      const before = await cards();
      const final = before.find((c) => c.id === 'optimized-final')!;
      assert.equal(Number(final.value), r.predictedFinalLoss);

      await page.reload();
      await page.waitForSelector('body[data-ready="1"]');
      await page.waitForSelector('[data-testid=optimize-progress][data-state=done]', { timeout: LONG });
      await page.waitForSelector('[data-testid=optimized-final] strong');
      const after = await cards();
      assert.deepEqual(after, before, 'the same cards as before the reload');
      assert.equal(Number(after.find((c) => c.id === 'optimized-final')!.value), r.predictedFinalLoss, 'the predicted final loss of GET /jobs/{id}');
      assert.equal(await page.getAttribute('[data-testid=optimize-progress]', 'data-job'), jobId);
      assert.equal(await page.getAttribute('[data-testid=optimized-spec]', 'data-spec'), r.schedule);
      await page.waitForFunction(() => {
        const el = document.querySelector<HTMLElement>('#view-optimize .opt-loss');
        return Number(el?.dataset.series) === 5 && Number(el?.dataset.bands) >= 1;
      }, undefined, { timeout: LONG });
      assert.match(await hash(), new RegExp(`[?&]job=${jobId}(&|$)`), 'job= stays while its result shows');
      console.log(`  looked at: ${await shot(page, 'optimize-restored')}`);

      // The form changed after the run: the result is still drawn for the run's own fit and length.
      await page.fill('#view-optimize input[name=totalSteps]', '20000');
      await page.waitForFunction(() => location.hash.includes('total=20000'));
      await page.reload();
      await page.waitForSelector('body[data-ready="1"]');
      await page.waitForSelector('[data-testid=optimized-final] strong', { timeout: LONG });
      assert.equal(await page.inputValue('#view-optimize input[name=totalSteps]'), '20000', 'the form as the URL has it');
      const text = (await page.textContent('[data-testid=optimized-final]')) ?? '';
      assert.ok(text.includes(`fit #${fitId}`) && text.includes('16,000 steps'), `the run's fit and length: "${text}"`);
      assert.deepEqual(await cards(), before);
    });

    await t.test('a job still queued at a reload is followed, and its result shown when it ends', async () => {
      // A long search holds the (serial) queue, so the small one waits in it while the page loads.
      const long = await api('/optimize-schedule?async=1', { fit: fitId, totalSteps: 24000, peakLr: 3e-4, warmupSteps: 2160, space: 'free', restarts: 64, budgetMs: 60_000 });
      assert.equal(long.status, 202, JSON.stringify(long.body));
      const small = await api('/optimize-schedule?async=1', { fit: fitId, totalSteps: 2000, peakLr: 1e-3, warmupSteps: 100, restarts: 8, budgetMs: 2000, interval: 0.8 });
      assert.equal(small.status, 202, JSON.stringify(small.body));
      const smallId = String(small.body.jobId);
      assert.equal((await api(`/jobs/${smallId}`)).body.status, 'queued');
      await load(`${base}/#/optimize?job=${smallId}`);
      await page.waitForSelector(`[data-testid=optimize-progress][data-job="${smallId}"]`);
      await page.waitForSelector('[data-testid=cancel-optimize]', { state: 'visible' });
      assert.equal(await page.getAttribute('[data-testid=optimize-result]', 'data-state'), 'running', 'the view follows the queued job');
      const cancelled = await api(`/jobs/${long.body.jobId}`, undefined, 'DELETE');
      assert.ok([200, 202].includes(cancelled.status), JSON.stringify(cancelled.body));
      await page.waitForSelector('[data-testid=optimize-progress][data-state=done]', { timeout: LONG });
      const job = (await api(`/jobs/${smallId}`)).body;
      assert.equal(job.status, 'done');
      assert.equal(Number(await page.getAttribute('[data-testid=optimized-final] strong', 'data-value')), job.result.predictedFinalLoss);
      const text = (await page.textContent('[data-testid=optimized-final]')) ?? '';
      assert.ok(text.includes(`fit #${fitId}`) && text.includes('2,000 steps'), `the job's own fit and length: "${text}"`);
      assert.match(await hash(), new RegExp(`[?&]job=${smallId}(&|$)`));
    });

    await t.test('a cancelled job and one that does not exist: a short note, job= dropped, no crash', async () => {
      // A queued job cancelled at once (the long search holds the queue).
      const long = await api('/optimize-schedule?async=1', { fit: fitId, totalSteps: 24000, peakLr: 3e-4, warmupSteps: 2160, space: 'free', restarts: 64, budgetMs: 60_000 });
      const queued = await api('/optimize-schedule?async=1', { fit: fitId, totalSteps: 2000, peakLr: 1e-3, warmupSteps: 100, budgetMs: 2000 });
      assert.equal(queued.status, 202, JSON.stringify(queued.body));
      assert.equal((await api(`/jobs/${queued.body.jobId}`, undefined, 'DELETE')).body.status, 'cancelled');
      assert.ok([200, 202].includes((await api(`/jobs/${long.body.jobId}`, undefined, 'DELETE')).status));
      await load(`${base}/#/optimize?total=2000&job=${queued.body.jobId}`);
      const note = await page.waitForSelector('[data-testid=optimize-job-note]');
      assert.match((await note.textContent()) ?? '', new RegExp(`job ${queued.body.jobId} was cancelled`));
      await page.waitForFunction(() => !location.hash.includes('job='));
      assert.match(await hash(), /total=2000/, 'the form keys stay');

      await load(`${base}/#/optimize?job=987654`);
      const missing = await page.waitForSelector('[data-testid=optimize-job-note]');
      const text = (await missing.textContent()) ?? '';
      assert.match(text, /987654 was not found/);
      await page.waitForFunction(() => !location.hash.includes('job='));
      assert.equal(await page.getAttribute('[data-testid=optimize-result]', 'data-state'), 'note');
      assert.equal(await page.isHidden('[data-testid=optimize-progress]'), true, 'no progress bar for a job that is not there');
      assert.equal(await page.isEnabled('[data-testid=run-optimize]'), true, 'the form still works');
      console.log(`  looked at: ${await shot(page, 'optimize-missing-job')}`);
      // The note stays when the fit list arrives; the page works on.
      await page.click('a[data-view=curves]');
      await page.waitForSelector('#view-curves .loss-chart:not(.is-empty) canvas');
    });

    // The 404 of the missing job shows as a console "Failed to load resource" error: listed, not failed on.
    if (d.failedRequests.length) t.diagnostic(`answers of 400 and above: ${d.failedRequests.join('; ')}`);
    assert.deepEqual(d.pageErrors.filter((e) => !/Failed to load resource/.test(e)), [], 'no uncaught errors in the page');
  } finally {
    await d.close();
  }
});
