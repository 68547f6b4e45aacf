/**
 * The dashboard draws the 80% prediction interval (GET /predict?interval=0.8) as a shaded band: in
 * the fit view around each fitted curve's prediction, in the what-if view around "yours", with the
 * final loss and its interval on screen ("3.2571 (80%: 3.1772–3.3676)"), the same numbers the API
 * gives. A fit of three 25M curves is made through the API first. Skips only when /usr/bin/chromium
 * is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHROMIUM, haveChromium, seededDashboard } from './e2e/browser.js';

const CURVES = ['25M/cosine_24000', '25M/constant_24000', '25M/wsd_20000_24000'];

/** What the page's uPlot instance `name` holds: its bands and, per band, finite lower <= upper points. */
type ChartBands = { bands: number; series: number; ordered: boolean; finite: number };

test('dashboard draws 80% prediction bands in the fit and what-if views', { timeout: 120_000 }, async (t) => {
  if (!haveChromium()) {
    t.skip(`${CHROMIUM} is missing`);
    return;
  }
  const d = await seededDashboard();
  const { page, api, base, shot, pageErrors } = d;
  t.diagnostic(`screenshots in ${d.shotDir}`);
  try {
    const curveIds = await d.curveIds(...CURVES);
    const fit = await api('/fit', { curveIds, law: 'mpl' });
    assert.equal(fit.status, 201, JSON.stringify(fit.body).slice(0, 500));
    const fitId = fit.body.id as number;

    const chartBands = (name: string) =>
      page.evaluate((name) => {
        const u = (window as any).__lrcastCharts.get(name);
        if (!u) return null;
        const bands = (u.bands ?? []) as { series: [number, number] }[];
        let ordered = true;
        let finite = 0;
        for (const b of bands) {
          const hi = u.data[b.series[0]] as (number | null)[];
          const lo = u.data[b.series[1]] as (number | null)[];
          for (let i = 0; i < hi.length; i++) {
            if (hi[i] === null || lo[i] === null) continue;
            finite++;
            if (!(lo[i]! <= hi[i]!)) ordered = false;
          }
        }
        return { bands: bands.length, series: u.series.length, ordered, finite };
      }, name) as Promise<ChartBands | null>;

    await t.test('fit view: a band around each fitted curve, final losses with their interval', async () => {
      await page.goto(`${base}/#/fits`);
      await page.waitForSelector(`#view-fits .fit-chart[data-bands="${CURVES.length}"] canvas`);
      const bands = await chartBands('fit-chart');
      assert.ok(bands, 'the fit chart is registered');
      assert.equal(bands.bands, CURVES.length, 'one band per fitted curve');
      // x, then per curve: observed, fit, upper, lower.
      assert.equal(bands.series, 1 + 4 * CURVES.length);
      assert.ok(bands.finite > 0 && bands.ordered, 'lower <= upper wherever both are finite');
      const finals = await page.locator('[data-testid=fit-final]').allTextContents();
      assert.equal(finals.length, CURVES.length);
      for (const text of finals) assert.match(text, /\d\.\d{4} \(80%: \d\.\d{4}–\d\.\d{4}\)/);
      // The numbers are the API's.
      const first = (await api(`/predict?fit=${fitId}&curve=${curveIds[0]}&interval=0.8`)).body;
      const shown = finals.find((f) => f.startsWith(`${CURVES[0]}:`))!;
      assert.ok(shown.includes(`(80%: ${first.final.lower.toFixed(4)}–${first.final.upper.toFixed(4)})`), `${shown} vs ${JSON.stringify(first.final)}`);
      // The band is in the legend value of its series, and its edges are not legend rows of their own.
      const visibleRows = await page.locator('#view-fits .fit-chart .u-legend .u-series:visible').count();
      assert.equal(visibleRows, 1 + 2 * CURVES.length);
      t.diagnostic(`fit view: ${await shot(page, 'bands-fit')}`);
    });

    await t.test('what-if view: a band around "yours", the final loss with its interval', async () => {
      await page.click('a[data-view=whatif]');
      await page.selectOption('[data-testid=whatif-fit]', String(fitId));
      await page.waitForSelector('#view-whatif .whatif-loss[data-bands="1"] canvas');
      const interval = await page.waitForSelector('[data-testid=whatif-final-interval]');
      const text = (await interval.textContent()) ?? '';
      assert.match(text, /80%/);
      assert.match(text, /^\(80%: \d\.\d{4}–\d\.\d{4}\)$/);
      const spec = await page.getAttribute('[data-testid=whatif-final]', 'data-spec');
      const value = Number(await page.getAttribute('[data-testid=whatif-final]', 'data-value'));
      const predicted = (await api(`/predict?fit=${fitId}&schedule=${encodeURIComponent(spec!)}&interval=0.8`)).body;
      assert.equal(value, predicted.final.loss);
      assert.equal(Number(await interval.getAttribute('data-lower')), predicted.final.lower);
      assert.equal(Number(await interval.getAttribute('data-upper')), predicted.final.upper);
      assert.ok(predicted.final.lower < predicted.final.loss && predicted.final.loss < predicted.final.upper);
      const bands = await chartBands('whatif-loss');
      assert.ok(bands && bands.bands >= 1 && bands.finite > 0 && bands.ordered, JSON.stringify(bands));
      // A spec change redraws the band for the new prediction.
      await page.selectOption('[data-testid=family]', 'wsd');
      await page.waitForFunction(() => document.querySelector<HTMLElement>('[data-testid=whatif-final]')?.dataset.spec?.startsWith('wsd:'));
      await page.waitForSelector('#view-whatif .whatif-loss[data-bands="1"] canvas');
      assert.match((await page.textContent('[data-testid=whatif-final-interval]')) ?? '', /80%/);
      t.diagnostic(`what-if view: ${await shot(page, 'bands-whatif')}`);
    });

    assert.deepEqual(pageErrors, [], 'no page errors');
  } finally {
    await d.close();
  }
});
