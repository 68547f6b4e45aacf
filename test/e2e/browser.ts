/**
 * E2E helpers: Debian's Chromium through playwright-core, the built dashboard, screenshots, and
 * `seededDashboard()`: the prologue the dashboard tests share (a seeded app on a temp database,
 * Chromium, a page that records uncaught errors).
 */
import { existsSync, mkdtempSync, statSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { buildApp, type AppOptions } from '../../src/app.js';
import { projectPath } from '../../src/paths.js';
import { tempDir } from '../helpers.js';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

export const haveChromium = () => existsSync(CHROMIUM);

export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Build public/ unless it is newer than every dashboard source (npm test builds first anyway). */
export function ensureDashboardBuilt(): void {
  const bundle = projectPath('public', 'app.js');
  if (existsSync(bundle) && statSync(bundle).mtimeMs >= newestMtime(projectPath('src', 'dashboard'))) return;
  const res = spawnSync(process.execPath, [projectPath('scripts', 'build-dashboard.mjs')], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`dashboard build failed:\n${res.stdout}\n${res.stderr}`);
}

/** A temp folder for screenshots, and a function that saves one page shot there. */
export function screenshots(): { dir: string; shot: (page: Page, name: string) => Promise<string> } {
  const dir = mkdtempSync(join(tmpdir(), 'lrcast-e2e-shots-'));
  return {
    dir,
    shot: async (page, name) => {
      const path = join(dir, `${name}.png`);
      await page.screenshot({ path, fullPage: false });
      return path;
    },
  };
}

/** A JSON (or text) answer of the app under test. */
export interface ApiAnswer {
  status: number;
  body: any;
  type: string;
}

export interface SeededDashboard {
  app: FastifyInstance;
  base: string;
  browser: Browser;
  page: Page;
  /** Uncaught page errors, console errors and CSP reports seen so far. */
  pageErrors: string[];
  /** Answers of 400 and above the page got ("400 GET /baselines?…"): what a "Failed to load resource" was. */
  failedRequests: string[];
  /** fetch against the app: `api('/curves')`, `api('/fit', {curveIds, law})` posts JSON. */
  api: (path: string, body?: unknown, method?: string) => Promise<ApiAnswer>;
  /** The ids of curves by name. */
  curveIds: (...names: string[]) => Promise<number[]>;
  shot: (page: Page, name: string) => Promise<string>;
  shotDir: string;
  close: () => Promise<void>;
}

/**
 * A dashboard under test: the built bundle, an app seeded with the demo curves on a temp database
 * (listening on a free port; `app` adds options, e.g. a token), Chromium and one page at `viewport` whose
 * errors are recorded and whose dialogs are accepted (unless `acceptDialogs: false`). `close()` ends all of it.
 */
export async function seededDashboard(options: { viewport?: { width: number; height: number }; app?: Partial<AppOptions>; acceptDialogs?: boolean } = {}): Promise<SeededDashboard> {
  ensureDashboardBuilt();
  const { dir, cleanup } = tempDir();
  const app = await buildApp({ dbPath: join(dir, 'lrcast.sqlite'), seed: true, ...options.app });
  let browser: Browser | undefined;
  try {
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const api = async (path: string, body?: unknown, method?: string): Promise<ApiAnswer> => {
      const init: RequestInit = body === undefined ? { method: method ?? 'GET' } : { method: method ?? 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
      const res = await fetch(base + path, init);
      const type = res.headers.get('content-type') ?? '';
      const text = await res.text();
      return { status: res.status, body: type.includes('json') && text ? JSON.parse(text) : text, type };
    };
    const curveIds = async (...names: string[]) => {
      const items = (await api('/curves?limit=1000')).body.items as { id: number; name: string }[];
      return names.map((n) => {
        const c = items.find((x) => x.name === n);
        if (!c) throw new Error(`no seeded curve named ${n}`);
        return c.id;
      });
    };
    browser = await launch();
    const page = await browser.newPage({ viewport: options.viewport ?? { width: 1280, height: 800 } });
    page.setDefaultTimeout(30_000);
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) pageErrors.push(`console: ${m.text()}`);
    });
    // Confirms (delete) are accepted; a test that answers prompts itself (a token) passes acceptDialogs: false.
    if (options.acceptDialogs !== false) page.on('dialog', (d) => void d.accept());
    const failedRequests: string[] = [];
    page.on('response', (r) => {
      if (r.status() >= 400) failedRequests.push(`${r.status()} ${r.request().method()} ${r.url().replace(base, '')}`);
    });
    const { dir: shotDir, shot } = screenshots();
    const opened = browser;
    return {
      app,
      base,
      browser: opened,
      page,
      pageErrors,
      failedRequests,
      api,
      curveIds,
      shot,
      shotDir,
      close: async () => {
        await opened.close();
        await app.close();
        cleanup();
      },
    };
  } catch (err) {
    await browser?.close();
    await app.close();
    cleanup();
    throw err;
  }
}

/**
 * The prologue of a dashboard test: the seeded dashboard (as `seededDashboard`), with the screenshot
 * folder in the test's diagnostics; undefined, and the test skipped, where Chromium is missing.
 */
export async function dashboardForTest(t: TestContext, options: Parameters<typeof seededDashboard>[0] = {}): Promise<SeededDashboard | undefined> {
  if (!haveChromium()) {
    t.skip(`${CHROMIUM} is missing`);
    return undefined;
  }
  const d = await seededDashboard(options);
  t.diagnostic(`screenshots in ${d.shotDir}`);
  return d;
}
