/** E2E helpers: Debian's Chromium through playwright-core, the built dashboard, screenshots. */
import { existsSync, mkdtempSync, statSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { projectPath } from '../../src/paths.js';

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
