/**
 * `npm run migrate-to-postgres` round-trips the fixtures: a SQLite database with the fixture curves,
 * a fit (with its interval basis), a stored schedule and finished jobs is copied into an empty
 * PostgreSQL schema, where the API answers the same; a non-empty target is refused, copying nothing.
 * Skipped, saying so, without a PostgreSQL server (LRCAST_TEST_DATABASE_URL).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { buildApp } from '../src/app.js';
import { projectPath } from '../src/paths.js';
import { copySqliteToPostgres, TargetNotEmptyError } from '../src/store/copy-to-postgres.js';
import { freshDatabase, tempDir, testDatabaseUrl } from './helpers.js';

const skip = testDatabaseUrl ? false : 'no PostgreSQL server: set LRCAST_TEST_DATABASE_URL (scripts/pg-local.sh start DIR prints one)';
const P25 = [3.04045406, 0.52468604, 0.50786857, 363.78751622, 2.06560812, 0.58279013, 0.64142257];

test('migrate-to-postgres copies curves, fits, schedules and finished jobs into an empty database, verified; a non-empty one is refused', { skip, timeout: 180_000 }, async () => {
  const { dir, cleanup } = tempDir();
  const sqlitePath = join(dir, 'lrcast.sqlite');
  const database = freshDatabase();
  try {
    const source = await buildApp({ dbPath: sqlitePath, seed: true });
    const fit = (await source.inject({ method: 'POST', url: '/fit', payload: { curveIds: [1, 2], law: 'lra' } })).json();
    const search = (await source.inject({ method: 'POST', url: '/optimize-schedule', payload: { law: 'mpl', params: P25, totalSteps: 2000, peakLr: 3e-4, warmupSteps: 100, restarts: 4 } })).json();
    const jobId = (await source.inject({ method: 'POST', url: '/fit?async=1', payload: { curveIds: [3], law: 'lra', options: { leaveOneOut: false } } })).json().jobId;
    for (let t0 = Date.now(); (await source.inject({ url: `/jobs/${jobId}` })).json().status !== 'done' && Date.now() - t0 < 60_000; ) await new Promise((r) => setTimeout(r, 100));
    // An interval needs the fit's basis: it must come across with the fit.
    const predictUrl = `/predict?fit=${fit.id}&schedule=${encodeURIComponent('wsd:peak=3e-4,warmup=2160,total=24000,decayStart=20000,final=3e-5,shape=exp')}&interval=0.8`;
    const before = {
      curves: (await source.inject({ url: '/curves?limit=100' })).json(),
      points: await Promise.all([1, 5, 18].map(async (id) => (await source.inject({ url: `/curves/${id}` })).body)),
      fit: (await source.inject({ url: `/fits/${fit.id}` })).body,
      predict: (await source.inject({ url: predictUrl })).body,
      schedule: (await source.inject({ url: `/schedules/${search.scheduleId}` })).body,
      job: (await source.inject({ url: `/jobs/${jobId}` })).json(),
    };
    await source.close();

    const report = await copySqliteToPostgres(sqlitePath, database.url);
    assert.deepEqual(report.copied, { curves: 18, curve_forecasts: 0, fits: 2, schedules: 1, jobs: 1 });
    assert.equal(report.verifiedCurves, 18);

    const target = await buildApp({ dbPath: database.url });
    try {
      assert.deepEqual((await target.inject({ url: '/curves?limit=100' })).json(), before.curves);
      for (const [i, id] of [1, 5, 18].entries()) assert.equal((await target.inject({ url: `/curves/${id}` })).body, before.points[i], `curve ${id} reads back the same`);
      assert.equal((await target.inject({ url: `/fits/${fit.id}` })).body, before.fit);
      assert.equal((await target.inject({ url: predictUrl })).body, before.predict, 'the interval basis came across');
      assert.equal((await target.inject({ url: `/schedules/${search.scheduleId}` })).body, before.schedule);
      const job = (await target.inject({ url: `/jobs/${jobId}` })).json();
      assert.deepEqual(job, before.job);
      // New rows continue after the copied ids.
      const next = await target.inject({ method: 'POST', url: '/curves', payload: { name: 'new', points: [{ step: 0, loss: 4, lr: 1e-3 }, { step: 1, loss: 3, lr: 1e-3 }] } });
      assert.equal(next.json().id, 19, next.body);
    } finally {
      await target.close();
    }

    await assert.rejects(copySqliteToPostgres(sqlitePath, database.url), (error: Error) => error instanceof TargetNotEmptyError && /not empty \(19 curves, 2 fits, 1 schedules, 1 jobs\)/.test(error.message));
    // The command says so in one line and exits 1.
    const cli = spawnSync(process.execPath, ['--import', 'tsx', projectPath('scripts', 'migrate-to-postgres.ts'), '--from', sqlitePath, '--to', database.url], { encoding: 'utf8' });
    assert.equal(cli.status, 1);
    assert.match(cli.stderr, /^migrate-to-postgres: the target database is not empty/);
  } finally {
    cleanup();
    await database.drop();
  }
});
