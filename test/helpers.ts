/** Test helpers: an app on a fresh SQLite file in a temp folder, and the fixture manifest. */
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, type AppOptions } from '../src/app.js';
import { projectPath } from '../src/paths.js';
import { readManifest, type FixtureEntry } from '../src/fixtures/seed.js';

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'lrcast-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A built app over a new database file; `close()` also removes the folder. */
export async function testApp(options: Partial<AppOptions> = {}) {
  const { dir, cleanup } = tempDir();
  const dbPath = options.dbPath ?? join(dir, 'db', 'lrcast.sqlite');
  const app = await buildApp({ seed: false, ...options, dbPath });
  return {
    app,
    dbPath,
    dir,
    close: async () => {
      await app.close();
      cleanup();
    },
  };
}

export const fixtures: FixtureEntry[] = readManifest().curves;

export function fixtureCsv(entry: FixtureEntry): string {
  return readFileSync(projectPath('fixtures', entry.file), 'utf8');
}

/** The events of a finished server-sent event stream: `{event, data}` with data parsed as JSON. */
export function parseEvents(body: string): { event: string; data: any }[] {
  return body
    .split('\n\n')
    .filter((block) => block.includes('event:'))
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)![1]!;
      const data = JSON.parse(/^data: (.*)$/m.exec(block)![1]!);
      return { event, data };
    });
}
