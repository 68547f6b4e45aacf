/**
 * Test helpers: an app on a fresh database (a SQLite file in a temp folder; in the PostgreSQL pass of
 * `npm test`, a fresh schema on LRCAST_TEST_DATABASE_URL), and the fixture manifest.
 */
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { buildApp, type AppOptions } from '../src/app.js';
import { projectPath } from '../src/paths.js';
import { readManifest, type FixtureEntry } from '../src/fixtures/seed.js';

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'lrcast-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A PostgreSQL server for the tests that need one (LRCAST_TEST_DATABASE_URL, e.g. from scripts/pg-local.sh), or undefined. */
export const testDatabaseUrl: string | undefined = process.env.LRCAST_TEST_DATABASE_URL || undefined;

/** The API tests run on PostgreSQL (the second pass of `npm test`, scripts/test-postgres.mjs) rather than SQLite. */
export const onPostgres = process.env.LRCAST_TEST_ENGINE === 'postgres' && testDatabaseUrl !== undefined;

/** A new, empty schema on the test server: its URL (`?schema=`) and `drop()`, which removes it and its queue's schema. */
export function freshDatabase(serverUrl = testDatabaseUrl!): { url: string; drop: () => Promise<void> } {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const url = new URL(serverUrl);
  url.searchParams.set('schema', schema);
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; DROP SCHEMA IF EXISTS ${schema}_pgboss CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A built app over a new database (a file, or a schema in the PostgreSQL pass); `close()` also removes it. */
export async function testApp(options: Partial<AppOptions> = {}) {
  const { dir, cleanup } = tempDir();
  const database = options.dbPath === undefined && onPostgres ? freshDatabase() : undefined;
  const dbPath = options.dbPath ?? database?.url ?? join(dir, 'db', 'lrcast.sqlite');
  const app = await buildApp({ seed: false, ...options, dbPath });
  return {
    app,
    dbPath,
    dir,
    close: async () => {
      await app.close();
      cleanup();
      await database?.drop();
    },
  };
}

export const fixtures: FixtureEntry[] = readManifest().curves;

export function fixtureCsv(entry: FixtureEntry): string {
  return readFileSync(projectPath('fixtures', entry.file), 'utf8');
}

/** Upload the fixture curves that `keep` selects, as CSV with their schedule spec (POST /curves, each a 201): their ids by name. */
export async function uploadFixtures(app: FastifyInstance, keep: (entry: FixtureEntry) => boolean): Promise<Record<string, number>> {
  const ids: Record<string, number> = {};
  for (const entry of fixtures.filter(keep)) {
    const url = `/curves?name=${encodeURIComponent(entry.name)}&schedule=${encodeURIComponent(entry.schedule!)}`;
    const res = await app.inject({ method: 'POST', url, headers: { 'content-type': 'text/csv' }, payload: fixtureCsv(entry) });
    assert.equal(res.statusCode, 201, res.body);
    ids[entry.name] = res.json().id;
  }
  return ids;
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
