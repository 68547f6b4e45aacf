/** Migrations, restarts, seeding, token enforcement, and the configuration of the database and job roles. */
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

test('migration 004 makes a job cancelled before it (failed, error "cancelled") a cancelled job', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { copyFileSync, mkdirSync, readdirSync } = await import('node:fs');
    // A database as it was before 004: migrations 001-003 only.
    const before = join(dir, 'migrations-003');
    mkdirSync(before);
    for (const file of readdirSync(projectPath('migrations')).filter((f) => f < '004')) copyFileSync(projectPath('migrations', file), join(before, file));
    const path = join(dir, 'old.sqlite');
    const old = openDb(path, before);
    assert.throws(() => old.prepare(`INSERT INTO jobs (status, request, created_at, updated_at) VALUES ('cancelled', '{}', 'a', 'a')`).run(), /CHECK/);
    old.prepare(`INSERT INTO schedules (created_at, spec, total_steps, peak_lr) VALUES ('a', 'constant(0.001)', 10, 0.001)`).run();
    const insert = old.prepare('INSERT INTO jobs (kind, status, progress, request, error, schedule_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    insert.run('optimize', 'failed', 0.25, '{"law":"mpl"}', 'cancelled', null, 't1', 't2');
    insert.run('fit', 'failed', 0, '{}', 'server stopped', null, 't3', 't4');
    insert.run('optimize', 'done', 1, '{}', null, 1, 't5', 't6');
    insert.run('optimize', 'queued', 0, '{}', null, null, 't7', 't8');
    old.prepare('DELETE FROM jobs WHERE id = 4').run(); // the next id stays 5 (AUTOINCREMENT)
    old.close();

    const db = openDb(path);
    const names = (db.prepare('SELECT name FROM schema_migrations ORDER BY version').all() as { name: string }[]).map((r) => r.name);
    assert.ok(names.includes('004_job_cancelled.sql'));
    const rows = db.prepare('SELECT id, kind, status, progress, request, error, schedule_id, created_at, updated_at FROM jobs ORDER BY id').all();
    assert.deepEqual(rows, [
      { id: 1, kind: 'optimize', status: 'cancelled', progress: 0.25, request: '{"law":"mpl"}', error: 'cancelled', schedule_id: null, created_at: 't1', updated_at: 't2' },
      { id: 2, kind: 'fit', status: 'failed', progress: 0, request: '{}', error: 'server stopped', schedule_id: null, created_at: 't3', updated_at: 't4' },
      { id: 3, kind: 'optimize', status: 'done', progress: 1, request: '{}', error: null, schedule_id: 1, created_at: 't5', updated_at: 't6' },
    ]);
    const indexes = (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'jobs' AND sql IS NOT NULL`).all() as { name: string }[]).map((r) => r.name);
    assert.deepEqual(indexes, ['jobs_status']);
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    assert.deepEqual(db.pragma('foreign_key_check'), []);
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    // The new CHECK takes 'cancelled' and still refuses other statuses; ids are not reused.
    const added = db.prepare(`INSERT INTO jobs (status, request, created_at, updated_at) VALUES ('cancelled', '{}', 'a', 'a')`).run();
    assert.equal(Number(added.lastInsertRowid), 5);
    assert.throws(() => db.prepare(`INSERT INTO jobs (status, request, created_at, updated_at) VALUES ('stopped', '{}', 'a', 'a')`).run(), /CHECK/);
    // The reference to schedules still holds (ON DELETE SET NULL).
    db.prepare('DELETE FROM schedules WHERE id = 1').run();
    assert.equal((db.prepare('SELECT schedule_id FROM jobs WHERE id = 3').get() as { schedule_id: number | null }).schedule_id, null);
    db.close();

    // Through the API: the migrated job reads back cancelled, and cancelling it again is refused (it has ended).
    const app = await buildApp({ dbPath: path, seed: false });
    try {
      const job = (await app.inject({ url: '/jobs/1' })).json();
      assert.deepEqual([job.status, job.error], ['cancelled', 'cancelled']);
      assert.equal((await app.inject({ method: 'DELETE', url: '/jobs/1' })).statusCode, 409);
    } finally {
      await app.close();
    }
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

test('the database and job roles from the environment: PostgreSQL URL, roles, worker settings; roles other than all need PostgreSQL', async () => {
  const { loadConfig } = await import('../src/config.js');
  const base = { LRCAST_DB: '/tmp/x.sqlite' };
  assert.equal(loadConfig(base).dbPath, '/tmp/x.sqlite');
  assert.equal(loadConfig(base).jobs.role, 'all');
  const shared = loadConfig({ ...base, LRCAST_DATABASE_URL: 'postgres://u:p@db:5432/lrcast', LRCAST_ROLE: 'worker', LRCAST_WORKER_KINDS: 'optimize', LRCAST_WORKER_CONCURRENCY: '2' });
  assert.equal(shared.dbPath, 'postgres://u:p@db:5432/lrcast');
  assert.deepEqual(shared.jobs, { role: 'worker', kinds: ['optimize'], concurrency: 2, maxAttempts: undefined, staleSeconds: undefined });
  assert.throws(() => loadConfig({ ...base, LRCAST_DATABASE_URL: 'mysql://db/x' }), /LRCAST_DATABASE_URL is not a postgres/);
  assert.throws(() => loadConfig({ ...base, LRCAST_ROLE: 'boss' }), /LRCAST_ROLE=boss is not one of all, api, worker/);
  assert.throws(() => loadConfig({ ...base, LRCAST_WORKER_KINDS: 'fit,translate' }), /LRCAST_WORKER_KINDS: translate is not a job kind/);
  assert.throws(() => loadConfig({ ...base, LRCAST_WORKER_CONCURRENCY: '0' }), /LRCAST_WORKER_CONCURRENCY=0 is not a whole number >= 1/);
  const { describeDatabase } = await import('../src/store/index.js');
  assert.equal(describeDatabase('postgres://u:secret@db:5432/lrcast'), 'LRCAST_DATABASE_URL=postgres://u:***@db:5432/lrcast', 'logs never show the password');
  const { dir, cleanup } = tempDir();
  try {
    await assert.rejects(buildApp({ dbPath: join(dir, 'a.sqlite'), jobs: { role: 'api' } }), /LRCAST_ROLE=api needs a shared database \(LRCAST_DATABASE_URL/);
  } finally {
    cleanup();
  }
});

test('SQLite list pages are cached only while nothing changed: own writes and another connection\'s commits both show at once', async () => {
  const { openStore } = await import('../src/store/index.js');
  const { dir, cleanup } = tempDir();
  const path = join(dir, 'shared.sqlite');
  const a = await openStore(path);
  const b = await openStore(path);
  const curve = (name: string) => ({ name, meta: { tag: name }, points: { steps: new Float64Array([1, 2]), losses: new Float64Array([3, 2.9]), lrs: null } });
  try {
    await a.curves.insert(curve('one'));
    const first = await a.curves.list(20, 0);
    assert.deepEqual(first.items.map((c) => c.name), ['one']);
    assert.equal(await a.curves.list(20, 0), first, 'an unchanged page is answered from the cache');
    assert.throws(() => ((first.items[0]!.meta as { tag: string }).tag = 'changed'), TypeError, 'cached pages are frozen');
    // Another connection (another process on the same file) commits: the next page sees it.
    const two = await b.curves.insert(curve('two'));
    assert.deepEqual((await a.curves.list(20, 0)).items.map((c) => c.name), ['one', 'two']);
    // This repository's own writes: delete, planned schedule, points.
    await a.curves.delete(two.id);
    assert.deepEqual((await a.curves.list(20, 0)).items.map((c) => c.name), ['one']);
    const [only] = (await a.curves.list(20, 0)).items;
    await a.curves.setPlannedSchedule(only!.id, 'constant:peak=1e-3,total=10');
    assert.equal((await a.curves.list(20, 0)).items[0]!.plannedSchedule, 'constant:peak=1e-3,total=10');
    await a.curves.updatePoints(only!.id, (c) => ({ steps: new Float64Array([...c.points.steps, 3]), losses: new Float64Array([...c.points.losses, 2.8]), lrs: null }));
    assert.equal((await a.curves.list(20, 0)).items[0]!.pointCount, 3);
    assert.equal((await a.curves.list(1, 1)).total, 1);
  } finally {
    await a.close();
    await b.close();
    cleanup();
  }
});
