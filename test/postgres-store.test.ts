/**
 * The PostgreSQL store and job queue (src/store/postgres), on the server at LRCAST_TEST_DATABASE_URL
 * (skipped, saying so, without one): migrations under the advisory lock, points bit for bit, all or
 * nothing writes, the size limit, and the queue's ownership rules (claim once, only the owner stores,
 * dead workers' jobs handed on, then failed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import pg from 'pg';
import { openStore, StorageFullError, type Store } from '../src/store/index.js';
import { projectPath } from '../src/paths.js';
import { freshDatabase, testDatabaseUrl } from './helpers.js';

const skip = testDatabaseUrl ? false : 'no PostgreSQL server: set LRCAST_TEST_DATABASE_URL (scripts/pg-local.sh start DIR prints one)';

async function withStore(run: (store: Store, url: string) => Promise<void>, maxBytes = 0): Promise<void> {
  const database = freshDatabase();
  const store = await openStore(database.url, { maxBytes });
  try {
    await run(store, database.url);
  } finally {
    await store.close();
    await database.drop();
  }
}

test('two instances opening one new database at once apply each migration once (advisory lock)', { skip }, async () => {
  const database = freshDatabase();
  try {
    const stores = await Promise.all([openStore(database.url), openStore(database.url), openStore(database.url)]);
    const files = readdirSync(projectPath('migrations', 'postgres')).filter((f) => /^\d{3}_.*\.sql$/.test(f));
    const client = new pg.Client({ connectionString: testDatabaseUrl });
    await client.connect();
    const schema = new URL(database.url).searchParams.get('schema');
    const { rows } = await client.query(`SELECT version, name FROM ${schema}.schema_migrations ORDER BY version`);
    await client.end();
    assert.deepEqual(rows.map((r) => r.name), files.sort());
    for (const store of stores) await store.close();
    // Opening again applies nothing and keeps the data.
    const again = await openStore(database.url);
    assert.equal(await again.curves.count(), 0);
    await again.close();
  } finally {
    await database.drop();
  }
});

test('points read back bit for bit (NaN, -0, subnormals, extremes), and an append reads and writes in one transaction', { skip }, async () => {
  await withStore(async (store) => {
    const losses = new Float64Array([4, -0, Number.MIN_VALUE, Number.MAX_VALUE, 1 / 3, Math.PI, 2.5e-308]);
    const steps = new Float64Array(losses.length).map((_, i) => i * 10);
    const lrs = new Float64Array([NaN, 1e-3, 1e-3, 5e-4, NaN, 0, 3e-4]);
    const made = await store.curves.insert({ name: 'bits', meta: { b: 1, a: [2] }, points: { steps, losses, lrs } });
    const back = (await store.curves.get(made.id))!;
    assert.deepEqual(Buffer.from(back.points.losses.buffer), Buffer.from(losses.buffer));
    assert.deepEqual(Buffer.from(back.points.lrs!.buffer), Buffer.from(lrs.buffer));
    assert.deepEqual(Object.keys(back.meta), ['b', 'a'], 'json keeps the key order');
    assert.equal(back.createdAt, made.createdAt);
    // Concurrent appends: each reads the points as the previous one left them (row lock), none is lost.
    await Promise.all(
      Array.from({ length: 8 }, (_, k) =>
        store.curves.updatePoints(made.id, (current) => ({
          steps: Float64Array.from([...current.points.steps, 1000 + k]),
          losses: Float64Array.from([...current.points.losses, 1]),
          lrs: Float64Array.from([...current.points.lrs!, 1e-4]),
        })),
      ),
    );
    const after = (await store.curves.get(made.id))!;
    assert.equal(after.pointCount, losses.length + 8);
    assert.equal(after.points.steps.length, losses.length + 8);
  });
});

test('insertMany is all or nothing; pages count every row', { skip }, async () => {
  await withStore(async (store) => {
    const points = { steps: new Float64Array([0, 1]), losses: new Float64Array([2, 1]), lrs: null };
    await store.curves.insert({ name: 'one', points });
    // The second curve has no points: its row breaks a NOT NULL, and the first of the batch goes too.
    await assert.rejects(store.curves.insertMany([{ name: 'ok', points }, { name: 'broken', points: { steps: new Float64Array(), losses: new Float64Array(), lrs: null } }]));
    const page = await store.curves.list(10, 0);
    assert.deepEqual([page.total, page.items.map((c) => c.name)], [1, ['one']]);
  });
});

test('LRCAST_DB_MAX_MB on PostgreSQL: a write past the limit is StorageFullError and stores nothing; deleting frees room', { skip }, async () => {
  await withStore(
    async (store) => {
      const n = 2000;
      const points = { steps: new Float64Array(n).map((_, i) => i), losses: new Float64Array(n).map((_, i) => 4 - i * 1e-4), lrs: null };
      let stored = 0;
      let error: unknown;
      for (let i = 0; i < 20 && !error; i++) {
        try {
          await store.curves.insert({ name: `c${i}`, points });
          stored++;
        } catch (e) {
          error = e;
        }
      }
      assert.ok(error instanceof StorageFullError, String(error));
      assert.equal(stored, 3, '3 x 32 KB fit in 100 KB, a fourth does not');
      assert.equal(await store.curves.count(), stored);
      await store.curves.delete((await store.curves.list(1, 0)).items[0]!.id);
      await store.curves.insert({ name: 'after-delete', points });
    },
    100 * 1024,
  );
});

test('the queue: a job is claimed once, only its owner stores, a cancel ends it for good', { skip }, async () => {
  await withStore(async (store) => {
    const queue = store.queue!;
    const job = await queue.enqueue('fit', { curveIds: [1] });
    assert.equal(job.status, 'queued');
    const claimed = await queue.claim(job.id, 'worker-a');
    assert.deepEqual([claimed?.status, claimed?.attempts], ['running', 1]);
    assert.equal(await queue.claim(job.id, 'worker-b'), undefined, 'a second delivery finds it taken');
    assert.equal(await queue.finish(job.id, 'worker-b', { status: 'done', result: { fitId: 9 }, bestLoss: null, scheduleId: null }), false);
    assert.equal(await queue.progress(job.id, 'worker-a', 0.5, 3.1, { progress: 0.5 }), true);
    assert.equal(await queue.finish(job.id, 'worker-a', { status: 'done', result: { fitId: 1 }, bestLoss: null, scheduleId: null }), true);
    assert.equal(await queue.finish(job.id, 'worker-a', { status: 'done', result: { fitId: 2 }, bestLoss: null, scheduleId: null }), false, 'never two results');
    assert.deepEqual((await store.jobs.get(job.id))!.result, { fitId: 1 });

    const other = await queue.enqueue('fit', {});
    await queue.claim(other.id, 'worker-a');
    assert.equal(await queue.cancel(other.id, 'cancelled'), 'running');
    assert.equal(await queue.heartbeat(other.id, 'worker-a'), false, 'the worker hears it has lost the job');
    assert.equal(await queue.finish(other.id, 'worker-a', { status: 'done', result: {}, bestLoss: null, scheduleId: null }), false);
    assert.equal(await queue.cancel(other.id, 'cancelled'), undefined, 'ended already');
    assert.deepEqual([(await store.jobs.get(other.id))!.status, (await store.jobs.get(other.id))!.error], ['cancelled', 'cancelled']);
  });
});

test('the queue: a job whose worker stopped renewing its heartbeat goes back to the queue, then fails after the last attempt', { skip }, async () => {
  await withStore(async (store) => {
    const queue = store.queue!;
    const job = await queue.enqueue('optimize', {});
    await queue.claim(job.id, 'dead-1');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const reason = (attempts: number) => `stopped ${attempts} times`;
    assert.deepEqual(await queue.sweep(60_000, 2, reason), { requeued: [], failed: [] }, 'fresh heartbeats are left alone');
    assert.deepEqual(await queue.sweep(100, 2, reason), { requeued: [job.id], failed: [] });
    assert.equal((await store.jobs.get(job.id))!.status, 'queued');
    assert.equal(await queue.finish(job.id, 'dead-1', { status: 'done', result: {}, bestLoss: null, scheduleId: null }), false, 'the dead start stores nothing');
    await queue.claim(job.id, 'dead-2');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(await queue.sweep(100, 2, reason), { requeued: [], failed: [job.id] });
    const failed = (await store.jobs.get(job.id))!;
    assert.deepEqual([failed.status, failed.error, failed.attempts], ['failed', 'stopped 2 times', 2]);
  });
});
