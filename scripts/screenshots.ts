/**
 * Screenshots of every dashboard view for the README (`npm run screenshots`): builds the dashboard,
 * starts the service on a temp database seeded with the demo curves, makes what the views show
 * through the API (an mpl fit of the 25M training curves, a live run of a held-out curve with its
 * plan) and through the UI (an optimization of the WSD family), then opens curves, fits, whatif,
 * optimize and live at 1440x900 and 390x844 in Chromium and writes docs/screenshots/<view>-<width>.png
 * (the 390 px shots show the page's first 2400 px). `--out DIR` writes elsewhere.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Page } from 'playwright-core';
import { buildApp } from '../src/app.js';
import { projectPath } from '../src/paths.js';
import { parseCurveCsv } from '../src/curves/csv.js';
import { readManifest } from '../src/fixtures/seed.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];
const FIT_CURVES = ['25M/cosine_24000', '25M/constant_24000', '25M/wsdcon_9'];
const HELD_OUT = ['25M/wsd_20000_24000', '25M/cosine_72000'];
/** Shown in Curves: both models' training curves (colour groups by model). */
const SHOWN = ['25M/cosine_24000', '25M/constant_24000', '25M/wsdcon_9', '100M/cosine_24000', '100M/constant_24000', '100M/wsdcon_9'];
const LIVE_RUN = '25M/wsdld_20000_24000';
const SIZES = [
  { width: 1440, height: 900 },
  { width: 390, height: 844 },
];

const outArg = process.argv.indexOf('--out');
const outDir = outArg > 0 ? process.argv[outArg + 1]! : projectPath('docs', 'screenshots');

const build = spawnSync(process.execPath, [projectPath('scripts', 'build-dashboard.mjs')], { encoding: 'utf8' });
if (build.status !== 0) throw new Error(`dashboard build failed:\n${build.stdout}\n${build.stderr}`);
mkdirSync(outDir, { recursive: true });

const dbDir = mkdtempSync(join(tmpdir(), 'lrcast-shots-'));
const app = await buildApp({ dbPath: join(dbDir, 'lrcast.sqlite'), seed: true });
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
try {
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  const api = async (path: string, body?: unknown) => {
    const res = await fetch(base + path, body === undefined ? undefined : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const answer = (await res.json()) as any;
    if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(answer).slice(0, 300)}`);
    return answer;
  };
  const curves = (await api('/curves?limit=1000')).items as { id: number; name: string }[];
  const ids = (names: string[]) => names.map((n) => curves.find((c) => c.name === n)!.id);
  const fit = await api('/fit', { curveIds: ids(FIT_CURVES), law: 'mpl' });

  // A live run: the first 45% of a held-out 25M run's points, its spec as the plan.
  const entry = readManifest().curves.find((c) => c.name === LIVE_RUN)!;
  const cols = parseCurveCsv(readFileSync(projectPath('fixtures', entry.file), 'utf8'));
  const cut = Math.round(cols.steps.length * 0.45);
  const points = Array.from(cols.steps.subarray(0, cut), (step, i) => ({ step, loss: cols.losses[i]!, lr: cols.lrs![i]! }));
  const warmupSteps = Number(/warmup=(\d+)/.exec(entry.schedule!)![1]);
  const live = await api('/curves', { name: 'live/25M-wsdld (45%)', plannedSchedule: entry.schedule, warmupSteps, points, meta: { modelSize: '25M', split: 'live' } });

  const shared = `curves=${ids(SHOWN).join(',')}&fit=${fit.id}`;
  const cosine = 'cosine:peak=3e-4,total=24000,warmup=2160,final=3e-5';
  const wsd = 'wsd:peak=3e-4,total=24000,warmup=2160,decayStart=19200,final=3e-5,shape=sqrt';
  const views: { view: string; hash: string; ready: string }[] = [
    { view: 'curves', hash: `#/curves?${shared}`, ready: '#view-curves .loss-chart:not(.is-empty) canvas' },
    { view: 'fits', hash: `#/fits?${shared}&heldOut=${ids(HELD_OUT).join(',')}`, ready: '#view-fits .fit-chart:not(.is-empty) canvas' },
    { view: 'whatif', hash: `#/whatif?${shared}&s=${encodeURIComponent(cosine)}&s=${encodeURIComponent(wsd)}`, ready: '#view-whatif .whatif-loss:not(.is-empty) canvas' },
    { view: 'optimize', hash: `#/optimize?${shared}&total=24000&peak=3e-4&warmup=2160&space=wsd&budget=3`, ready: '#view-optimize .opt-loss:not(.is-empty) canvas' },
    { view: 'live', hash: `#/live?${shared}&curve=${live.id}`, ready: '#view-live .live-loss:not(.is-empty) canvas' },
  ];

  const settle = async (page: Page, selector: string, what: string) => {
    try {
      await page.waitForSelector(selector, { timeout: 60_000 });
      await page.waitForSelector('.plot-status .loading, .state.loading', { state: 'detached', timeout: 20_000 }).catch(() => undefined);
      await page.waitForTimeout(600);
    } catch {
      console.warn(`  ${what}: "${selector}" did not show in time; shot as it is`);
    }
  };

  for (const size of SIZES) {
    const page = await browser.newPage({ viewport: size });
    page.on('pageerror', (e) => console.warn(`  page error: ${e.message}`));
    page.on('dialog', (d) => void d.accept());
    for (const { view, hash, ready } of views) {
      await page.goto(`${base}/${hash}`);
      await page.waitForSelector('body[data-ready="1"]');
      if (view === 'optimize') {
        await page.selectOption('[data-testid=optimize-fit]', String(fit.id));
        await page.click('[data-testid=run-optimize]');
        await page.waitForSelector('[data-testid=optimize-progress][data-state=done]', { timeout: 120_000 });
      }
      await settle(page, ready, `${view} at ${size.width} px`);
      const path = join(outDir, `${view}-${size.width}.png`);
      if (size.width < 600) {
        const height = Math.min(2400, await page.evaluate(() => document.documentElement.scrollHeight));
        await page.screenshot({ path, fullPage: true, clip: { x: 0, y: 0, width: size.width, height } });
      } else await page.screenshot({ path });
      console.log(`wrote ${path}`);
    }
    await page.close();
  }
} finally {
  await browser.close();
  await app.close();
  rmSync(dbDir, { recursive: true, force: true });
}
