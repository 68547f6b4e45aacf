/**
 * Observability (issue 12): GET /metrics in the Prometheus text format, on a registry per app, and
 * the configurable request log line (LRCAST_REQUEST_LOG).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { loadConfig } from '../src/config.js';
import { testApp } from './helpers.js';

const P25 = [3.04045406, 0.52468604, 0.50786857, 363.78751622, 2.06560812, 0.58279013, 0.64142257];

/** The value of the sample `name{labels}` (labels in the order prom-client writes them), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('GET /metrics: Prometheus text with request latency by route pattern, queue depth, job durations, fit and search counts, event-loop lag', async () => {
  const ctx = await testApp({ seed: true });
  const { app } = ctx;
  try {
    const curves = (await app.inject({ url: '/curves?limit=100' })).json().items as { id: number; name: string }[];
    const curveIds = curves.filter((c) => c.name.startsWith('25M/')).slice(0, 3).map((c) => c.id);
    assert.equal((await app.inject({ url: '/jobs/424242' })).statusCode, 404);
    assert.equal((await app.inject({ url: '/no/such/route' })).statusCode, 404);
    const fit = await app.inject({ method: 'POST', url: '/fit', payload: { curveIds, law: 'lra', options: { leaveOneOut: false } } });
    assert.equal(fit.statusCode, 201, fit.body);
    const search = { law: 'mpl', params: P25, totalSteps: 300, peakLr: 1e-3, warmupSteps: 10, restarts: 2, budgetMs: 200 };
    assert.equal((await app.inject({ method: 'POST', url: '/optimize-schedule', payload: search })).statusCode, 200);
    const { jobId } = (await app.inject({ method: 'POST', url: '/optimize-schedule?async=1', payload: { ...search, space: 'wsd' } })).json();
    for (let i = 0; i < 600 && (await app.inject({ url: `/jobs/${jobId}` })).json().status !== 'done'; i++) await new Promise((r) => setTimeout(r, 50));

    const res = await app.inject({ url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    const text = res.body;
    // Latency by route pattern, method and status: never the raw URL.
    assert.equal(sample(text, 'lrcast_http_request_duration_seconds_count{method="GET",route="/jobs/:id",status_code="404"}'), 1);
    assert.equal(sample(text, 'lrcast_http_request_duration_seconds_count{method="GET",route="unmatched",status_code="404"}'), 1);
    assert.equal(sample(text, 'lrcast_http_request_duration_seconds_count{method="POST",route="/fit",status_code="201"}'), 1);
    assert.doesNotMatch(text, /424242|no\/such/);
    // Fit and search counts by outcome, job durations by kind and final status.
    assert.equal(sample(text, 'lrcast_fits_total{law="lra",outcome="done"}'), 1);
    assert.equal(sample(text, 'lrcast_searches_total{space="default",outcome="done"}'), 1);
    assert.equal(sample(text, 'lrcast_searches_total{space="wsd",outcome="done"}'), 1);
    assert.equal(sample(text, 'lrcast_job_duration_seconds_count{kind="optimize",status="done"}'), 1);
    // Queue depth: every kind and status, read at scrape time.
    for (const kind of ['fit', 'optimize']) for (const status of ['queued', 'running']) assert.equal(sample(text, `lrcast_job_queue_depth{kind="${kind}",status="${status}"}`), 0);
    assert.match(text, /^# TYPE nodejs_eventloop_lag_seconds gauge$/m);
    assert.match(text, /^# TYPE lrcast_http_request_duration_seconds histogram$/m);

    // A long search queued behind another: the depth shows it at the next scrape.
    const long = { ...search, totalSteps: 24000, peakLr: 3e-4, warmupSteps: 2160, restarts: 64, budgetMs: 60_000 };
    const ids = await Promise.all([long, long].map(async (payload) => (await app.inject({ method: 'POST', url: '/optimize-schedule?async=1', payload })).json().jobId as number));
    const depth = (await app.inject({ url: '/metrics' })).body;
    assert.equal(sample(depth, 'lrcast_job_queue_depth{kind="optimize",status="queued"}')! + sample(depth, 'lrcast_job_queue_depth{kind="optimize",status="running"}')!, 2);
    // Cancel the queued one first, then the running one (whichever the worker took: the two answers
    // can come back in either order), so the queued one never starts.
    const statusOf = async (id: number) => (await app.inject({ url: `/jobs/${id}` })).json().status as string;
    let running: number | undefined;
    for (let i = 0; i < 400 && running === undefined; i++) {
      for (const id of ids) if ((await statusOf(id)) === 'running') running = id;
      if (running === undefined) await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(running !== undefined, 'one of the two searches runs');
    for (const id of [...ids.filter((id) => id !== running), running]) await app.inject({ method: 'DELETE', url: `/jobs/${id}` });
    const after = (await app.inject({ url: '/metrics' })).body;
    assert.equal(sample(after, 'lrcast_job_duration_seconds_count{kind="optimize",status="cancelled"}'), 2);
    // The search that was running counts as cancelled; the queued one never ran.
    assert.equal(sample(after, 'lrcast_searches_total{space="default",outcome="cancelled"}'), 1);
  } finally {
    await ctx.close();
  }
});

test('every app counts on its own registry; /metrics is a read guarded by the read token', async () => {
  const one = await testApp();
  const two = await testApp({ readToken: 'r3ad' });
  try {
    for (let i = 0; i < 3; i++) await one.app.inject({ url: '/curves' });
    const count = 'lrcast_http_request_duration_seconds_count{method="GET",route="/curves",status_code="200"}';
    assert.equal(sample((await one.app.inject({ url: '/metrics' })).body, count), 3);
    assert.equal((await two.app.inject({ url: '/metrics' })).statusCode, 401);
    const read = await two.app.inject({ url: '/metrics', headers: { authorization: 'Bearer r3ad' } });
    assert.equal(read.statusCode, 200);
    assert.equal(sample(read.body, count), undefined, 'the other app counted none');
  } finally {
    await one.close();
    await two.close();
  }
});

/** An app logging to memory with LRCAST_REQUEST_LOG = `mode`: the request lines after a few requests. */
async function requestLines(mode: 'all' | 'errors' | 'off') {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const ctx = await testApp({ requestLog: mode, logger: { level: 'info', stream } });
  try {
    await ctx.app.inject({ url: '/health' });
    await ctx.app.inject({ url: '/curves/77' });
  } finally {
    await ctx.close();
  }
  assert.equal(lines.filter((l) => /incoming request|request completed/.test(String(l.msg))).length, 0, "fastify's own two lines are gone");
  return lines.filter((l) => l.msg === 'request');
}

test('LRCAST_REQUEST_LOG: one line per request (all), per failed request (errors, the default) or none (off)', async () => {
  const all = await requestLines('all');
  assert.deepEqual(all.map((l) => [l.method, l.route, l.statusCode]), [['GET', '/health', 200], ['GET', '/curves/:id', 404]]);
  assert.equal(all[1]!.url, '/curves/77');
  assert.equal(typeof all[1]!.responseTime, 'number');
  assert.deepEqual((await requestLines('errors')).map((l) => l.statusCode), [404]);
  assert.deepEqual(await requestLines('off'), []);

  assert.equal(loadConfig({}).requestLog, 'errors');
  assert.equal(loadConfig({ LRCAST_REQUEST_LOG: 'ALL' }).requestLog, 'all');
  assert.throws(() => loadConfig({ LRCAST_REQUEST_LOG: 'verbose' }), /LRCAST_REQUEST_LOG=verbose is not one of all, errors, off/);
});
