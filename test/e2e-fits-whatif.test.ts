/**
 * The Fits and What-if views in Chromium (issue 14), on a real server over the seeded demo curves and
 * real fits made through the API: a held-out curve overlaid in the fit view with the metrics GET
 * /predict?fit=&curve= gives (and the URL's `heldOut=`), the method and stop-rule badge of an
 * early-stopped fit, tables that do not overlap at 1440 px, two schedules compared in What-if with
 * the gains and baselines the API gives (GET /baselines, GET /predict), the What-if URL restored after
 * a reload, an optimized schedule opened from its link predicting the Optimize answer (same baselines,
 * same gain), knots held at the run's peak, a deleted curve of a fit marked instead of a blank view,
 * and no horizontal overflow of either view at 390 px. Skips only when /usr/bin/chromium is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { buildApp } from '../src/app.js';
import { tempDir } from './helpers.js';
import { CHROMIUM, haveChromium, launch, ensureDashboardBuilt, screenshots } from './e2e/browser.js';

const TRAIN = ['25M/cosine_24000', '25M/constant_24000'];
const HELD_OUT = '25M/wsd_20000_24000';

/** The specs of the compared schedules, in order, as the list shows them. */
const comparedSpecs = (page: Page) => page.$$eval('[data-testid=compare-row]', (rows) => rows.map((r) => (r as HTMLElement).dataset.spec!));

/** Each schedule card's spec and value once `n` cards show values (the view has settled), card i's spec containing `wants[i]`. */
async function cards(page: Page, n: number, wants: string[] = []): Promise<{ spec: string; value: number; gains: Record<string, { abs: number; rel: number }> }[]> {
  const handle = await page.waitForFunction(([n, wants]) => {
    const els = [...document.querySelectorAll<HTMLElement>('#view-whatif [data-testid=whatif-cards] .card-num')];
    const specs = [...document.querySelectorAll<HTMLElement>('[data-testid=compare-row]')].map((r) => r.dataset.spec);
    if (els.length !== n || els.some((e, i) => !e.dataset.value || e.dataset.spec !== specs[i] || !e.dataset.spec!.includes(wants[i] ?? ''))) return null;
    return els.map((e) => ({
      spec: e.dataset.spec!,
      value: Number(e.dataset.value),
      gains: Object.fromEntries([...e.querySelectorAll<HTMLElement>('.gain')].map((g) => [g.dataset.kind!, { abs: Number(g.dataset.abs), rel: Number(g.dataset.rel) }])),
    }));
  }, [n, wants] as const);
  return (await handle.jsonValue()) as never;
}

test('fits and what-if views: held-out validation, compared schedules, URL state, knot clamping', { timeout: 6 * 60_000 }, async (t) => {
  if (!haveChromium()) {
    t.skip(`${CHROMIUM} is missing`);
    return;
  }
  ensureDashboardBuilt();
  const { dir, cleanup } = tempDir();
  const app = await buildApp({ dbPath: join(dir, 'lrcast.sqlite'), seed: true });
  let browser: Browser | undefined;
  const { dir: shotDir, shot } = screenshots();
  t.diagnostic(`screenshots in ${shotDir}`);
  try {
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const api = async (path: string, init?: RequestInit) => {
      const res = await fetch(base + path, init);
      return { status: res.status, body: (res.status === 204 ? null : await res.json()) as any };
    };
    const post = (path: string, body: unknown) => api(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const curves = (await api('/curves?limit=1000')).body.items as { id: number; name: string }[];
    const idOf = (name: string) => curves.find((c) => c.name === name)!.id;
    const trainIds = TRAIN.map(idOf);
    const heldId = idOf(HELD_OUT);
    const adam = await post('/fit', { curveIds: trainIds, law: 'mpl', options: { method: 'adam', leaveOneOut: false } });
    assert.equal(adam.status, 201, JSON.stringify(adam.body).slice(0, 300));
    const fit = await post('/fit', { curveIds: trainIds, law: 'mpl' });
    assert.equal(fit.status, 201, JSON.stringify(fit.body).slice(0, 300));
    const fitId = fit.body.id as number;

    browser = await launch();
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.setDefaultTimeout(30_000);
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/the server responded with a status of 4\d\d/.test(m.text())) pageErrors.push(`console: ${m.text()}`);
    });
    page.on('dialog', (d) => void d.accept());

    await t.test('fits: a held-out curve overlaid with the API’s metrics, from and into the URL', async () => {
      await page.goto(`${base}/#/fits?fit=${fitId}&heldOut=${heldId}`);
      await page.click(`[data-testid=fit-row][data-id="${fitId}"]`);
      const final = page.locator(`[data-testid=heldout-final][data-curve="${heldId}"]`);
      await final.waitFor();
      const api80 = (await api(`/predict?fit=${fitId}&curve=${heldId}&interval=0.8`)).body;
      const plain = (await api(`/predict?fit=${fitId}&curve=${heldId}`)).body;
      assert.deepEqual(api80.metrics, plain.metrics, 'the interval does not change the metrics');
      for (const key of ['r2', 'rmse', 'mae'] as const) assert.equal(Number(await final.getAttribute(`data-${key}`)), plain.metrics[key], key);
      assert.equal(Number(await final.getAttribute('data-prede')), plain.metrics.predE);
      const text = (await final.textContent()) ?? '';
      assert.match(text, /held out/);
      assert.ok(text.includes(`R² ${Number(plain.metrics.r2.toPrecision(4))}`), `${text} shows R² ${plain.metrics.r2}`);
      assert.ok(text.includes(plain.final.loss.toFixed(4)), `${text} shows the final ${plain.final.loss}`);
      // On the chart: observed and predicted series marked "held out".
      const labels = (await page.evaluate(() => (window as any).__lrcastCharts.get('fit-chart').series.map((s: { label: string }) => s.label))) as string[];
      assert.ok(labels.includes(`held out · ${HELD_OUT} observed`) && labels.includes(`held out · ${HELD_OUT} predicted`), labels.join(' | '));
      // The train vs held-out table: the held-out row has the same error; the training rows their in-sample error.
      const row = page.locator(`[data-testid=heldout-row][data-curve="${heldId}"]`);
      assert.equal(await row.getAttribute('data-role'), 'held-out');
      assert.equal(Number(await row.getAttribute('data-rmse')), plain.metrics.rmse);
      const stored = (await api(`/fits/${fitId}`)).body;
      for (const id of trainIds) {
        const train = page.locator(`[data-testid=heldout-row][data-curve="${id}"]`);
        assert.equal(await train.getAttribute('data-role'), 'train');
        const m = (stored.metrics.perCurve ?? stored.metrics.curves).find((c: any) => (c.curveId ?? c.id) === id);
        assert.equal(Number(await train.getAttribute('data-train-rmse')), (m.metrics ?? m).rmse);
      }
      // Unticking removes it from the chart and the URL; ticking writes it back.
      await page.uncheck(`[data-testid=heldout-check][data-curve="${heldId}"]`);
      await final.waitFor({ state: 'detached' });
      assert.ok(!/heldOut=/.test(await page.evaluate(() => location.hash)));
      await page.check(`[data-testid=heldout-check][data-curve="${heldId}"]`);
      await final.waitFor();
      assert.match(await page.evaluate(() => location.hash), new RegExp(`heldOut=${heldId}(&|$)`));
      t.diagnostic(`held out: ${await shot(page, 'fits-heldout-1440')}`);
      await page.locator('[data-testid=heldout-table]').scrollIntoViewIfNeeded();
      t.diagnostic(`train vs held-out table: ${await shot(page, 'fits-heldout-table-1440')}`);
    });

    await t.test('fits: method and stop rule instead of a bare "converged"; tables side by side without overlap at 1440 px', async () => {
      await page.click(`[data-testid=fit-row][data-id="${adam.body.id}"]`);
      await page.waitForFunction(() => document.querySelector('[data-testid=fit-method]')?.textContent === 'mpl · adam');
      const badge = (await page.textContent('[data-testid=fit-stop]')) ?? '';
      assert.ok(!/converged/.test(badge), `an early-stopped fit's badge says ${badge}`);
      assert.match(badge, /early-stopped/);
      assert.match((await page.textContent('[data-testid=fit-stop-rule]')) ?? '', /budget of 800 Adam steps/);
      await page.click(`[data-testid=fit-row][data-id="${fitId}"]`);
      await page.waitForFunction(() => document.querySelector('[data-testid=fit-method]')?.textContent === 'mpl · map');
      assert.equal(await page.textContent('[data-testid=fit-stop]'), 'converged');
      await page.waitForSelector('[data-testid=loo-table]', { timeout: 3 * 60_000 });
      const boxes = await page.$$eval('#view-fits .fit-tables > div', (divs) =>
        divs.map((d) => {
          const r = d.getBoundingClientRect();
          const table = d.querySelector('table')?.getBoundingClientRect();
          return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, tableRight: table ? table.right : r.right };
        }),
      );
      assert.equal(boxes.length, 3);
      for (const b of boxes) assert.ok(b.tableRight <= b.right + 1, `a table runs out of its column: ${JSON.stringify(b)}`);
      for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
          const [a, b] = [boxes[i]!, boxes[j]!];
          const overlap = a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
          assert.ok(!overlap, `tables ${i} and ${j} overlap: ${JSON.stringify([a, b])}`);
        }
      }
      // With leave-one-out done, each training curve's held-out error is its fold's.
      const done = (await api(`/fits/${fitId}`)).body;
      const fold = done.leaveOneOut.perCurve.find((c: any) => (c.curveId ?? c.id) === trainIds[0]);
      await page.waitForFunction((id) => !!document.querySelector<HTMLElement>(`[data-testid=heldout-row][data-curve="${id}"]`)?.dataset.rmse, trainIds[0]);
      assert.equal(Number(await page.getAttribute(`[data-testid=heldout-row][data-curve="${trainIds[0]}"]`, 'data-rmse')), (fold.metrics ?? fold).rmse);
      await page.locator('#view-fits .fit-tables').scrollIntoViewIfNeeded();
      t.diagnostic(`tables: ${await shot(page, 'fits-tables-1440')}`);
    });

    await t.test('what-if: two schedules compared with the API’s numbers, baselines by spec, warnings', async () => {
      await page.goto(`${base}/#/whatif?fit=${fitId}`);
      await page.waitForSelector('[data-testid=whatif-final][data-value]');
      await page.selectOption('[data-testid=whatif-fit]', String(fitId));
      await page.click('[data-testid=add-schedule]');
      await page.selectOption('[data-testid=family]', 'wsd');
      await page.fill('#view-whatif input[name=decayStart]', '20000');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid=compare-row]')[1]?.getAttribute('data-spec')?.includes('decayStart=20000'));
      const [s1, s2] = await cards(page, 2, ['cosine:', 'decayStart=20000']);
      assert.ok(s1!.spec.startsWith('cosine:') && s2!.spec.startsWith('wsd:'), `${s1!.spec} / ${s2!.spec}`);
      for (const c of [s1!, s2!]) {
        const p = (await api(`/predict?fit=${fitId}&schedule=${encodeURIComponent(c.spec)}`)).body;
        assert.equal(c.value, p.final.loss, c.spec);
      }
      // The difference, as Optimize defines it: absolute S1 - S2 and relative (S1 - S2) / S1.
      assert.equal(s2!.gains['vs-s1']!.abs, s1!.value - s2!.value);
      assert.equal(s2!.gains['vs-s1']!.rel, (s1!.value - s2!.value) / s1!.value);
      // Baselines: GET /baselines for the edited schedule's run, each shown by its spec, gains against the best.
      const set = (await api(`/baselines?fit=${fitId}&totalSteps=24000&peakLr=0.0003&warmupSteps=2160`)).body.baselines;
      for (const name of ['cosine', 'linear', 'wsd', 'constant']) {
        const row = page.locator(`[data-testid=whatif-baselines] tr[data-name=${name}]`);
        assert.equal(await row.getAttribute('data-spec'), set[name].schedule);
        assert.equal(Number(await row.getAttribute('data-loss')), set[name].loss);
        assert.ok(((await row.textContent()) ?? '').includes(set[name].schedule), `${name} is named by its spec`);
      }
      const best = Math.min(...['cosine', 'linear', 'wsd', 'constant'].map((n) => set[n].loss));
      assert.equal(s2!.gains['vs-best']!.rel, (best - s2!.value) / best);
      // Both on the loss chart, with the four baselines.
      const labels = (await page.evaluate(() => (window as any).__lrcastCharts.get('whatif-loss').series.map((s: { label: string }) => s.label))) as string[];
      for (const l of ['S1', 'S2', 'cosine baseline', 'wsd baseline']) assert.ok(labels.includes(l), labels.join(' | '));
      // Up to four (and more) at once.
      await page.click('[data-testid=add-schedule]');
      await page.click('[data-testid=add-schedule]');
      await page.fill('#view-whatif input[name=total]', '120000');
      await page.fill('#view-whatif input[name=decayStart]', '100000');
      const four = await cards(page, 4, ['', '', '', 'total=120000,warmup=2160,decayStart=100000']);
      assert.equal(four.length, 4);
      // S4 runs 5x the longest curve: the API's warning is shown for it.
      // The view asks with its 80% interval (which adds its own extrapolation warning).
      const p4 = (await api(`/predict?fit=${fitId}&schedule=${encodeURIComponent(four[3]!.spec)}&interval=0.8`)).body;
      assert.ok(p4.warnings.length > 0, 'the API warns about S4');
      await page.waitForSelector('[data-testid=whatif-warning][data-index="3"]');
      const warned = await page.locator('[data-testid=whatif-warning][data-index="3"]').allTextContents();
      assert.deepEqual(warned, p4.warnings.map((w: string) => `S4: ${w}`));
      t.diagnostic(`four schedules: ${await shot(page, 'whatif-four-1440')}`);
      await page.locator('[data-testid=remove-schedule]').nth(3).click();
      await page.locator('[data-testid=remove-schedule]').nth(2).click();
      await cards(page, 2);
    });

    await t.test('what-if: the compared schedules and the fit come back after a reload', async () => {
      const specs = await comparedSpecs(page);
      const hash = await page.evaluate(() => location.hash);
      const query = new URLSearchParams(hash.split('?')[1]);
      assert.deepEqual(query.getAll('s'), specs);
      assert.equal(query.get('fit'), String(fitId));
      await page.reload();
      const again = await cards(page, 2);
      // The same schedules (the form may write a number differently: 3e-4 as 0.0003): the API's canonical specs agree.
      const canonical = async (list: string[]) => Promise.all(list.map(async (s) => (await api(`/schedules/expand?schedule=${encodeURIComponent(s)}&every=1000`)).body.schedule));
      assert.deepEqual(await canonical(again.map((c) => c.spec)), await canonical(specs));
      assert.equal(await page.inputValue('[data-testid=whatif-fit]'), String(fitId));
      // A pasted link (a fresh page) restores them too.
      const fresh = await browser!.newPage({ viewport: { width: 1440, height: 900 } });
      await fresh.goto(`${base}/${hash}`);
      assert.deepEqual(await canonical((await cards(fresh, 2)).map((c) => c.spec)), await canonical(specs));
      await fresh.close();
    });

    await t.test('what-if: an optimized schedule opened from its link predicts the Optimize answer, against the same baselines', async () => {
      const run = { totalSteps: 24000, peakLr: 3e-4, warmupSteps: 2160 };
      const opt = await post('/optimize-schedule', { fit: fitId, ...run, budgetMs: 500, restarts: 4 });
      assert.equal(opt.status, 200, JSON.stringify(opt.body).slice(0, 300));
      const link = `#/whatif?fit=${fitId}&s=${encodeURIComponent(opt.body.schedule)}`;
      const other = await browser!.newPage({ viewport: { width: 1440, height: 900 } });
      await other.goto(`${base}/${link}`);
      const [card] = await cards(other, 1, ['piecewise:']);
      assert.equal(card!.spec, opt.body.schedule, 'the exact spec, not a rounded one');
      assert.equal(card!.value, opt.body.predictedFinalLoss);
      for (const name of ['cosine', 'linear', 'wsd', 'constant']) {
        const row = other.locator(`[data-testid=whatif-baselines] tr[data-name=${name}]`);
        await row.waitFor();
        assert.equal(await row.getAttribute('data-spec'), opt.body.baselines[name].schedule, name);
        assert.equal(Number(await row.getAttribute('data-loss')), opt.body.baselines[name].loss, name);
      }
      // The gain over the best baseline is the Optimize answer's improvement.vsBestBaseline (absolute).
      assert.equal(card!.gains['vs-best']!.abs, opt.body.improvement.vsBestBaseline);
      await other.close();
    });

    await t.test('what-if: a knot dragged above the peak is held at it; the peak survives a family switch', async () => {
      await page.locator('[data-testid=compare-row]').first().click();
      await page.selectOption('[data-testid=family]', 'piecewise');
      await page.waitForFunction(() => (document.querySelector<HTMLTextAreaElement>('[data-testid=spec]')?.value ?? '').startsWith('piecewise:'));
      // The lr chart drawn with the knots (the view redraws it once the piecewise prediction is in).
      await page.waitForFunction(() => (window as any).__lrcastCharts.get('whatif-lr')?.series.some((s: { label: string }) => s.label === 'knots'));
      await cards(page, 2, ['piecewise:']);
      const knots = () =>
        page.evaluate(() => {
          const spec = document.querySelector<HTMLTextAreaElement>('[data-testid=spec]')!.value;
          return spec.slice('piecewise:'.length).split(';').map((k) => k.split('=').map(Number) as [number, number]);
        });
      const before = await knots();
      const target = before[before.length - 3]!;
      const over = page.locator('#view-whatif .whatif-lr .u-over');
      await over.scrollIntoViewIfNeeded();
      const box = (await over.boundingBox())!;
      const [x, y] = await page.evaluate(([step, lr]) => {
        const u = (window as any).__lrcastCharts.get('whatif-lr');
        return [u.valToPos(step, 'x'), u.valToPos(lr, 'y')];
      }, target);
      await page.mouse.move(box.x + x, box.y + y);
      await page.mouse.down();
      // To the top of the plot: far above the peak of 3e-4.
      await page.mouse.move(box.x + x, box.y + 2, { steps: 8 });
      await page.mouse.up();
      await page.waitForSelector('[data-testid=knot-note][data-clamped="1"]');
      await page.waitForFunction((n) => {
        const spec = document.querySelector<HTMLTextAreaElement>('[data-testid=spec]')!.value;
        return spec.split(';')[n]?.endsWith('=0.0003');
      }, before.length - 3);
      const after = await knots();
      assert.ok(after.every(([, lr]) => lr <= 3e-4), JSON.stringify(after));
      assert.equal(after[before.length - 3]![1], 3e-4, 'held at the peak');
      assert.match((await page.textContent('[data-testid=knot-note]')) ?? '', /peak lr 0\.0003/);
      const [s1] = await cards(page, 2);
      assert.equal(s1!.value, (await api(`/predict?fit=${fitId}&schedule=${encodeURIComponent(s1!.spec)}`)).body.final.loss);
      t.diagnostic(`knot held at the peak: ${await shot(page, 'whatif-knot-clamped')}`);
      // Back to cosine: the run's peak and warmup are what they were.
      await page.selectOption('[data-testid=family]', 'cosine');
      assert.equal(Number(await page.inputValue('#view-whatif input[name=peak]')), 3e-4);
      assert.equal(await page.inputValue('#view-whatif input[name=warmup]'), '2160');
      await page.waitForFunction(() => document.querySelector<HTMLElement>('[data-testid=whatif-final]')?.dataset.spec?.match(/^cosine:peak=(3e-4|0\.0003),/));
    });

    await t.test('390 px: neither view overflows horizontally', async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      for (const view of ['whatif', 'fits']) {
        await page.goto(`${base}/#/${view}?fit=${fitId}${view === 'fits' ? `&heldOut=${heldId}` : ''}`);
        await page.waitForSelector(view === 'fits' ? '[data-testid=heldout-final]' : '[data-testid=whatif-final][data-value]');
        await page.waitForTimeout(300);
        const widths = await page.evaluate((id) => {
          const el = document.getElementById(id)!;
          const wide = [...el.querySelectorAll<HTMLElement>('*')]
            .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('.heldout-errors, .fit-tables > div, .whatif-baselines'))
            .slice(0, 5)
            .map((e) => `${e.tagName.toLowerCase()}.${e.className}: ${Math.round(e.getBoundingClientRect().right)}`);
          return { view: el.scrollWidth, client: el.clientWidth, page: document.documentElement.scrollWidth, inner: window.innerWidth, wide };
        }, `view-${view}`);
        assert.ok(widths.view <= widths.client + 1 && widths.wide.length === 0, `#view-${view} at 390 px: ${JSON.stringify(widths)}`);
        t.diagnostic(`${view} at 390 px: ${await shot(page, `${view}-390`)}`);
      }
      await page.setViewportSize({ width: 1440, height: 900 });
    });

    await t.test('fits: deleting a curve the fit used marks it, the fit stays shown', async () => {
      const gone = trainIds[1]!;
      assert.equal((await api(`/curves/${gone}`, { method: 'DELETE' })).status, 204);
      await page.goto(`${base}/#/fits?fit=${fitId}`);
      await page.reload();
      await page.click(`[data-testid=fit-row][data-id="${fitId}"]`);
      await page.waitForSelector(`[data-testid=fit-missing][data-curve="${gone}"]`);
      assert.match((await page.textContent(`[data-testid=fit-missing][data-curve="${gone}"]`)) ?? '', /was deleted/);
      assert.equal(await page.locator('#view-fits .fit-chart.is-empty').count(), 0, 'the remaining curve is still drawn');
      assert.equal(await page.locator('[data-testid=param-table]').count(), 1);
      assert.ok(!((await page.textContent('#view-fits')) ?? '').includes('Prediction route unavailable'));
      assert.equal(await page.getAttribute(`[data-testid=heldout-row][data-curve="${gone}"]`, 'data-role'), 'missing');
      t.diagnostic(`deleted curve: ${await shot(page, 'fits-deleted-curve')}`);
    });

    assert.deepEqual(pageErrors, [], 'no page errors');
  } finally {
    await browser?.close();
    await app.close();
    cleanup();
  }
});
