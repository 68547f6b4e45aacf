/**
 * Dashboard end to end in a real browser (Debian's Chromium via playwright-core) against the
 * real server on a temp database seeded with the demo curves: the curves are listed, a CSV
 * is uploaded by drag and drop, a bad upload shows the API's problem detail, a fit is made
 * from the UI and drawn (its leave-one-out table once the background folds are done), a
 * what-if schedule shows the final loss GET /predict gives for the same spec (family form and
 * dragged piecewise knots), an optimize run shows progress from the job's event stream and ends
 * with results and downloads. Screenshots go to a temp folder (printed). Skips only when
 * /usr/bin/chromium is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { projectPath } from '../src/paths.js';
import { fixtures } from './helpers.js';
import { CHROMIUM, haveChromium, seededDashboard } from './e2e/browser.js';

const TIMEOUT = 120_000;

test('dashboard in Chromium: curves, upload, fit, what-if, optimize', { timeout: 8 * 60_000 }, async (t) => {
  if (!haveChromium()) {
    t.skip(`${CHROMIUM} is missing: install it (apt-get install -y chromium) to run the dashboard e2e test`);
    return;
  }
  const d = await seededDashboard({ viewport: { width: 1280, height: 800 } });
  const { app, base, page, shot, shotDir } = d;
  console.log(`e2e screenshots: ${shotDir}`);
  t.diagnostic(`screenshots in ${shotDir}`);
  try {
    // Raw requests (CSV bodies, downloads), beside the JSON helper of seededDashboard.
    const api = async (path: string, init?: RequestInit) => {
      const res = await fetch(base + path, init);
      const body = res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text();
      return { status: res.status, body: body as any, type: res.headers.get('content-type') ?? '' };
    };
    const routes = (...list: [method: 'GET' | 'POST' | 'DELETE', url: string][]) => {
      const missing = list.filter(([method, url]) => !app.hasRoute({ method, url })).map(([m, u]) => `${m} ${u}`);
      assert.deepEqual(missing, [], `the API lacks ${missing.join(', ')}: the dashboard cannot work without it`);
    };

    page.setDefaultTimeout(TIMEOUT);
    // Uncaught errors and Content-Security-Policy reports (src/plugins/security.ts must not block anything the
    // dashboard does); the 400s this test provokes on purpose (a bad upload) are console errors, not these.
    const pageErrors = () => d.pageErrors.filter((e) => !/Failed to load resource/.test(e));
    await page.goto(base + '/');

    const seeded = (await api('/curves?limit=1000')).body;
    const rowNames = () => page.$$eval('[data-testid=curve-row]', (rows) => rows.map((r) => (r as HTMLElement).dataset.name));

    await t.test('the seeded curves are listed and the selection is plotted', async () => {
      assert.equal(seeded.total, fixtures.length);
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid=curve-row]').length === n, fixtures.length);
      assert.deepEqual((await rowNames()).sort(), fixtures.map((f) => f.name).sort());
      await page.waitForSelector('#view-curves .loss-chart:not(.is-empty) canvas');
      await page.waitForSelector('#view-curves .lr-chart:not(.is-empty) canvas');
      console.log(`  looked at: ${await shot(page, '1-curves')}`);
    });

    await t.test('a CSV dropped on the page is uploaded, a bad one shows the problem detail, delete works', async () => {
      const source = fixtures.find((f) => f.name === '25M/cosine_24000')!;
      const csv = readFileSync(projectPath('fixtures', source.file), 'utf8').split('\n').slice(0, 41).join('\n');
      const drop = async (text: string, file: string) => {
        const dt = await page.evaluateHandle(([text, file]) => {
          const dt = new DataTransfer();
          dt.items.add(new File([text!], file!, { type: 'text/csv' }));
          return dt;
        }, [text, file]);
        await page.dispatchEvent('[data-testid=dropzone]', 'drop', { dataTransfer: dt });
        await page.waitForSelector('#view-curves .upload-fields:not([hidden])');
      };
      await drop(csv, 'e2e-upload.csv');
      assert.equal(await page.inputValue('#view-curves input[name=name]'), 'e2e-upload');
      // The CSV has an lr column: the form offers its logged lrs first; the spec is checked against them.
      await page.selectOption('[data-testid=schedule-from]', 'spec');
      await page.fill('#view-curves input[name=schedule]', source.schedule);
      await page.click('[data-testid=upload]');
      await page.waitForSelector('[data-testid=upload-status] .state.ok');
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid=curve-row]').length === n, fixtures.length + 1);
      assert.ok((await rowNames()).includes('e2e-upload'));

      // No lr column and a broken spec: the API's problem+json detail and field are shown.
      const bad = 'step,loss\n10,4.0\n20,3.9\n';
      await drop(bad, 'broken.csv');
      await page.fill('#view-curves input[name=schedule]', 'cosine:peak=oops,total=100');
      const expected = await api('/curves?name=broken&schedule=' + encodeURIComponent('cosine:peak=oops,total=100'), { method: 'POST', headers: { 'content-type': 'text/csv' }, body: bad });
      assert.equal(expected.status, 400);
      assert.match(expected.type, /application\/problem\+json/);
      await page.click('[data-testid=upload]');
      const error = await page.waitForSelector('[data-testid=upload-status] .state.error');
      const text = (await error.textContent()) ?? '';
      assert.ok(text.includes(expected.body.detail), `the error box shows "${text}", not the API detail "${expected.body.detail}"`);
      if (expected.body.field) assert.ok(text.includes(expected.body.field), 'the error box names the field');
      assert.ok(await page.$('#view-curves input[name=schedule].invalid'), 'the schedule input is marked invalid');
      console.log(`  looked at: ${await shot(page, '2-upload-error')}`);

      await page.click('[data-testid=curve-row][data-name="e2e-upload"] button.danger');
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid=curve-row]').length === n, fixtures.length);
      assert.equal((await api('/curves?limit=1')).body.total, fixtures.length);
    });

    let fitId = 0;
    await t.test('a fit is created from the UI and its curves, residuals and tables are drawn', async () => {
      routes(['POST', '/fit'], ['GET', '/fits'], ['GET', '/predict'], ['GET', '/jobs/:id/events'], ['DELETE', '/jobs/:id']);
      await page.click('#view-curves button.link:has-text("none")');
      for (const name of ['25M/cosine_24000', '25M/constant_24000']) await page.check(`[data-testid=curve-row][data-name="${name}"] input[type=checkbox]`);
      await page.click('a[data-view=fits]');
      await page.check('[data-testid=law-mpl]');
      // A fit can be cancelled while it runs: nothing is stored.
      await page.click('[data-testid=create-fit]');
      await page.waitForSelector('[data-testid=cancel-fit]');
      // A DOM click: the status line (and the button in it) is redrawn on every progress update.
      await page.$eval('[data-testid=cancel-fit]', (button) => (button as HTMLButtonElement).click());
      await page.waitForSelector('[data-testid=fit-status]:has-text("Fit cancelled")');
      assert.equal((await api('/fits')).body.total, 0);
      await page.click('[data-testid=create-fit]');
      await page.waitForSelector('[data-testid=param-table]', { timeout: 5 * 60_000 });
      await page.waitForSelector('#view-fits .fit-chart:not(.is-empty) canvas');
      await page.waitForSelector('#view-fits .resid-chart:not(.is-empty) canvas');
      const fits = (await api('/fits')).body.items;
      assert.equal(fits.length, 1);
      fitId = fits[0].id;
      const fit = (await api(`/fits/${fitId}`)).body;
      assert.deepEqual([...fit.curveIds].sort(), seeded.items.filter((c: any) => ['25M/cosine_24000', '25M/constant_24000'].includes(c.name)).map((c: any) => c.id).sort());
      assert.equal(await page.locator('[data-testid=param-table] tbody tr').count(), fit.params.length);
      assert.equal(await page.locator('[data-testid=metrics-table] tbody tr').count(), fit.metrics.perCurve.length + 1);
      const points = Number(await page.getAttribute('#view-fits .fit-chart', 'data-points'));
      assert.ok(points > 0, 'the fit chart has points');
      // Leave-one-out is computed after the fit answers: "computing…" until the view's poll finds it done.
      const looShown = await page.locator('[data-testid=loo-pending], [data-testid=loo-table]').first().getAttribute('data-testid');
      console.log(`  leave-one-out when the fit was first drawn: ${looShown === 'loo-pending' ? 'computing' : 'done'}`);
      if (looShown === 'loo-pending') console.log(`  looked at: ${await shot(page, '3-fit-loo-pending')}`);
      await page.waitForSelector('[data-testid=loo-table]', { timeout: 5 * 60_000 });
      const done = (await api(`/fits/${fitId}`)).body;
      assert.equal(done.leaveOneOut.status, 'done');
      assert.equal(await page.locator('[data-testid=loo-table] tbody tr').count(), done.leaveOneOut.perCurve.length + 1);
      assert.equal(await page.locator('[data-testid=loo-pending]').count(), 0);
      console.log(`  looked at: ${await shot(page, '3-fit')}`);
    });

    /** Fill the what-if form's inputs by name. */
    async function fillWhatIf(values: Record<string, string>) {
      for (const [name, value] of Object.entries(values)) await page.fill(`#view-whatif input[name=${name}]`, value);
    }
    /**
     * The final loss the what-if view shows, once it is for a spec accepted by `want` and the
     * view has settled (the card is for the spec in the spec field), against GET /predict.
     */
    async function checkWhatIf(want: { spec?: string; prefix?: string; not?: string }) {
      const handle = await page.waitForFunction((w) => {
        const el = document.querySelector<HTMLElement>('[data-testid=whatif-final]');
        const field = document.querySelector<HTMLTextAreaElement>('[data-testid=spec]');
        const spec = el?.dataset.spec ?? '';
        const ok = (w.spec ? spec === w.spec : spec.startsWith(w.prefix ?? '')) && spec !== w.not && field?.value === spec;
        return ok ? { spec, value: el!.dataset.value!, text: el!.textContent ?? '' } : null;
      }, want);
      const { spec, value, text } = (await handle.jsonValue()) as { spec: string; value: string; text: string };
      const shown = Number(value);
      const predicted = await api(`/predict?fit=${fitId}&schedule=${encodeURIComponent(spec)}`);
      assert.equal(predicted.status, 200, JSON.stringify(predicted.body));
      assert.equal(shown, predicted.body.final.loss, `what-if shows ${shown} for ${spec}, GET /predict says ${predicted.body.final.loss}`);
      assert.ok(text.includes(shown.toFixed(4)), 'the number is on screen');
      return spec;
    }

    await t.test('a what-if schedule shows the final loss GET /predict gives for the same spec', async () => {
      assert.ok(fitId, 'needs the fit from the previous step');
      await page.click('a[data-view=whatif]');
      await page.selectOption('[data-testid=whatif-fit]', String(fitId));
      await page.selectOption('[data-testid=family]', 'wsd');
      await fillWhatIf({ total: '24000', peak: '3e-4', warmup: '2160', decayStart: '20000', final: '3e-5' });
      await page.selectOption('#view-whatif select[name=shape]', 'exp');
      await checkWhatIf({ spec: 'wsd:peak=3e-4,total=24000,warmup=2160,decayStart=20000,final=3e-5,shape=exp' });
      await page.waitForSelector('[data-testid=whatif-cosine]');
      await page.waitForSelector('[data-testid=whatif-wsd]');
      await page.waitForSelector('#view-whatif .whatif-loss:not(.is-empty) canvas');
      console.log(`  looked at: ${await shot(page, '4-whatif-wsd')}`);

      // Piecewise: drag the last knot down and the prediction follows.
      await page.selectOption('[data-testid=family]', 'piecewise');
      const before = await checkWhatIf({ prefix: 'piecewise:' });
      const over = page.locator('#view-whatif .whatif-lr .u-over');
      const box = (await over.boundingBox())!;
      const knot = await page.evaluate(() => {
        const spec = (document.querySelector<HTMLInputElement>('[data-testid=spec]')!).value;
        const knots = spec.slice('piecewise:'.length).split(';').map((k) => k.split('=').map(Number));
        return knots[knots.length - 3]!;
      });
      // Find the knot on screen from the axis ranges uPlot drew.
      const [x, y] = await page.evaluate(([step, lr]) => {
        const u = (window as any).__lrcastCharts.get('whatif-lr');
        return [u.valToPos(step, 'x'), u.valToPos(lr, 'y')];
      }, knot as [number, number]);
      await page.mouse.move(box.x + x, box.y + y);
      await page.mouse.down();
      await page.mouse.move(box.x + x, box.y + y + box.height * 0.25, { steps: 8 });
      await page.mouse.up();
      const after = await checkWhatIf({ prefix: 'piecewise:', not: before });
      assert.notEqual(after, before, 'dragging a knot changed the schedule');
      console.log(`  looked at: ${await shot(page, '5-whatif-piecewise')}`);

      // expr: a user expression f(s), evaluated by the server; a bad one marks the f field.
      await page.selectOption('[data-testid=family]', 'expr');
      await fillWhatIf({ total: '24000', peak: '3e-4', warmup: '2160', consts: 'final=3e-5', f: 'max(final, peak*(1-(s-warmup)/(total-warmup))^2)' });
      await checkWhatIf({ spec: 'expr:peak=3e-4,total=24000,warmup=2160,final=3e-5,f=max(final, peak*(1-(s-warmup)/(total-warmup))^2)' });
      await page.fill('#view-whatif input[name=f]', 'peak - s');
      await page.waitForSelector('#view-whatif input[name=f].invalid');
      await page.fill('#view-whatif input[name=f]', 'peak*exp(-(s-warmup)/8000)');
      await checkWhatIf({ spec: 'expr:peak=3e-4,total=24000,warmup=2160,final=3e-5,f=peak*exp(-(s-warmup)/8000)' });
      assert.equal(await page.locator('#view-whatif input[name=f].invalid').count(), 0, 'the f field is no longer marked');
      console.log(`  looked at: ${await shot(page, '5b-whatif-expr')}`);
    });

    await t.test('an optimize run shows its progress and ends with the schedule, baselines and downloads', async () => {
      routes(['POST', '/optimize-schedule'], ['GET', '/jobs/:id'], ['GET', '/jobs/:id/events']);
      await page.click('a[data-view=optimize]');
      await page.selectOption('[data-testid=optimize-fit]', String(fitId));
      await page.fill('[data-testid=budget]', '3');
      // Record every progress value the bar shows.
      await page.evaluate(() => {
        const bar = document.querySelector<HTMLProgressElement>('[data-testid=optimize-progress]')!;
        const seen: number[] = ((window as any).__progressSeen = []);
        new MutationObserver(() => seen.push(Number(bar.dataset.max))).observe(bar, { attributes: true });
      });
      await page.click('[data-testid=run-optimize]');
      await page.waitForSelector('[data-testid=optimize-progress-text]:visible');
      await page.waitForTimeout(700);
      console.log(`  looked at: ${await shot(page, '6-optimize-running')}`);
      await page.waitForSelector('[data-testid=optimize-progress][data-state=done]', { timeout: 5 * 60_000 });
      const events = Number(await page.getAttribute('[data-testid=optimize-progress]', 'data-events'));
      const seen: number[] = await page.evaluate(() => (window as any).__progressSeen);
      assert.ok(events >= 1, 'at least one progress event came through the event stream');
      assert.ok(seen.some((v) => v > 0 && v < 1), `an intermediate progress value was shown (saw ${seen.join(', ')})`);
      assert.equal(await page.evaluate(() => document.querySelector<HTMLProgressElement>('[data-testid=optimize-progress]')!.value), 1);
      await page.waitForSelector('[data-testid=optimized-final]');
      await page.waitForSelector('#view-optimize .opt-lr:not(.is-empty) canvas');
      await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('#view-optimize .opt-loss')!.dataset.series) >= 3);
      // The exact spec rides in data-spec (the box shows it rounded and shortened).
      const spec = (await page.getAttribute('[data-testid=optimized-spec]', 'data-spec')) ?? '';
      assert.match(spec, /^piecewise:/);
      const shown = (await page.textContent('[data-testid=optimized-spec]')) ?? '';
      assert.ok(/^piecewise[:,]/.test(shown) && shown.length < 200, `a short, rounded spec on screen: ${shown}`);
      for (const format of ['json', 'csv', 'pytorch']) {
        const href = await page.getAttribute(`[data-testid=download-${format}]`, 'href');
        assert.ok(href, `a ${format} download link`);
        const res = await api(href!);
        assert.equal(res.status, 200, `${href} answers 200`);
      }
      await page.waitForSelector('#view-optimize .plot-status .loading', { state: 'detached' });
      console.log(`  looked at: ${await shot(page, '7-optimize-done')}`);

      // A long run (10x the steps, 2 min budget) can be cancelled from its progress bar. The button is
      // pressed as soon as it shows (a DOM click: no wait for layout to settle while progress updates).
      await page.fill('#view-optimize input[name=totalSteps]', '240000');
      await page.fill('[data-testid=budget]', '120');
      await page.click('[data-testid=run-optimize]');
      await page.waitForSelector('[data-testid=cancel-optimize]:visible');
      const jobId = await page.getAttribute('[data-testid=optimize-progress]', 'data-job');
      await page.$eval('[data-testid=cancel-optimize]', (button) => (button as HTMLButtonElement).click());
      await page.waitForSelector('[data-testid=optimize-progress-text]:has-text("cancelled")', { timeout: 30_000 });
      const job = (await api(`/jobs/${jobId}`)).body;
      assert.deepEqual([job.status, job.error], ['cancelled', 'cancelled']);
      assert.equal(await page.getAttribute('[data-testid=optimize-progress]', 'data-state'), 'cancelled');
      assert.ok(await page.isHidden('[data-testid=cancel-optimize]'));
    });

    await t.test('the dashboard fits a laptop screen too, without page errors', async () => {
      await page.setViewportSize({ width: 1366, height: 768 });
      await page.click('a[data-view=fits]');
      await page.waitForTimeout(300);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
      assert.equal(overflow, false, 'no horizontal scrolling at 1366x768');
      console.log(`  looked at: ${await shot(page, '8-laptop-fits')}`);
      assert.deepEqual(pageErrors(), [], 'no uncaught errors in the page');
    });
  } finally {
    await d.close();
  }
});
