/**
 * The dashboard on a service that guards reads (LRCAST_READ_TOKEN): the first 401 asks for the token,
 * which then goes with every request as `Authorization: Bearer`, and the curves load. Skips only when
 * /usr/bin/chromium is missing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHROMIUM, haveChromium, seededDashboard } from './e2e/browser.js';

test('dashboard with a read token: asks once, then lists the curves', { timeout: 120_000 }, async (t) => {
  if (!haveChromium()) {
    t.skip(`${CHROMIUM} is missing`);
    return;
  }
  const d = await seededDashboard({ app: { readToken: 'let-me-read' }, acceptDialogs: false });
  const { page, base } = d;
  try {
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
    await d.close();
  }
});
