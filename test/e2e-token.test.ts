/**
 * The dashboard on a service that guards reads (LRCAST_READ_TOKEN): the first 401 asks for the token,
 * which then goes with every request as `Authorization: Bearer`, and the curves load. Skips only when
 * /usr/bin/chromium is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { buildApp } from '../src/app.js';
import { tempDir } from './helpers.js';
import { CHROMIUM, haveChromium, launch, ensureDashboardBuilt } from './e2e/browser.js';

test('dashboard with a read token: asks once, then lists the curves', { timeout: 120_000 }, async (t) => {
  if (!haveChromium()) {
    t.skip(`${CHROMIUM} is missing`);
    return;
  }
  ensureDashboardBuilt();
  const { dir, cleanup } = tempDir();
  const app = await buildApp({ dbPath: join(dir, 'lrcast.sqlite'), seed: true, readToken: 'let-me-read' });
  let browser: Browser | undefined;
  try {
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    browser = await launch();
    const page = await browser.newPage();
    const prompts: string[] = [];
    page.on('dialog', (dialog) => {
      prompts.push(dialog.message());
      void dialog.accept('let-me-read');
    });
    await page.goto(base + '/');
    await page.waitForSelector('[data-testid=curve-row]', { timeout: 30_000 });
    const rows = await page.$$('[data-testid=curve-row]');
    assert.equal(rows.length, 18, 'the 18 demo curves are listed');
    assert.equal(prompts.length, 1, `asked once: ${prompts.join(" | ")}`);
    assert.match(prompts[0]!, /needs a token/);
    const prompted = prompts.length;
    await page.reload();
    await page.waitForSelector('[data-testid=curve-row]');
    assert.equal(prompts.length, prompted, 'the token is remembered: no second prompt');
  } finally {
    await browser?.close();
    await app.close();
    cleanup();
  }
});
