/** Migrations, restarts, seeding and token enforcement. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openDb, migrate } from '../src/store/sqlite/db.js';
import { projectPath } from '../src/paths.js';
import { buildApp } from '../src/app.js';
import { tempDir, testApp } from './helpers.js';

test('migrations run once each and are idempotent across restarts', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const path = join(dir, 'nested', 'folder', 'lrcast.sqlite'); // the folder is created
    const first = openDb(path);
    const applied = first.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all() as { version: number }[];
    assert.ok(applied.length >= 1);
    assert.equal(first.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(first.pragma('foreign_keys', { simple: true }), 1);
    first.close();

    const again = openDb(path);
    assert.deepEqual(migrate(again, projectPath('migrations')), []);
    assert.equal((again.prepare('SELECT COUNT(*) AS n FROM schema_migrations').get() as { n: number }).n, applied.length);
    again.close();

    // Restart of the whole app keeps data and seeds only an empty database.
    const app1 = await buildApp({ dbPath: path, seed: true });
    const n1 = (await app1.inject({ method: 'GET', url: '/curves?limit=1' })).json().total;
    assert.equal(n1, 18);
    await app1.close();
    const app2 = await buildApp({ dbPath: path, seed: true });
    assert.equal((await app2.inject({ method: 'GET', url: '/curves?limit=1' })).json().total, 18);
    await app2.close();
  } finally {
    cleanup();
  }
});

test('a failing migration rolls back and is not recorded', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { writeFileSync, mkdirSync } = await import('node:fs');
    const migrations = join(dir, 'migrations');
    mkdirSync(migrations);
    writeFileSync(join(migrations, '001_ok.sql'), 'CREATE TABLE a (x INTEGER);');
    writeFileSync(join(migrations, '002_bad.sql'), 'CREATE TABLE b (x INTEGER); INSERT INTO nowhere VALUES (1);');
    const path = join(dir, 'db.sqlite');
    assert.throws(() => openDb(path, migrations), /nowhere/);
    writeFileSync(join(migrations, '002_bad.sql'), 'CREATE TABLE b (x INTEGER);'); // fixed
    const db = openDb(path, migrations);
    const names = (db.prepare('SELECT name FROM schema_migrations ORDER BY version').all() as { name: string }[]).map((r) => r.name);
    assert.deepEqual(names, ['001_ok.sql', '002_bad.sql']);
    db.close();
  } finally {
    cleanup();
  }
});

test('LRCAST_TOKEN guards every mutating request; reads stay open', async () => {
  const ctx = await testApp({ token: 's3cret' });
  try {
    const payload = { name: 'x', schedule: 'constant:peak=1e-3,total=10', points: [{ step: 1, loss: 2 }] };
    const none = await ctx.app.inject({ method: 'POST', url: '/curves', payload });
    assert.equal(none.statusCode, 401);
    assert.match(none.headers['content-type'] as string, /problem\+json/);
    const wrong = await ctx.app.inject({ method: 'POST', url: '/curves', payload, headers: { authorization: 'Bearer nope' } });
    assert.equal(wrong.statusCode, 401);
    const ok = await ctx.app.inject({ method: 'POST', url: '/curves', payload, headers: { authorization: 'Bearer s3cret' } });
    assert.equal(ok.statusCode, 201);
    const id = ok.json().id;
    assert.equal((await ctx.app.inject({ method: 'GET', url: `/curves/${id}` })).statusCode, 200);
    assert.equal((await ctx.app.inject({ method: 'DELETE', url: `/curves/${id}` })).statusCode, 401);
    assert.equal((await ctx.app.inject({ method: 'DELETE', url: `/curves/${id}`, headers: { authorization: 'Bearer s3cret' } })).statusCode, 204);
  } finally {
    await ctx.close();
  }
});
