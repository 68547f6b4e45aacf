/** Hostile input (issue 12): every bad request is a clear 4xx naming the field, never a 500 or a hang. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { projectPath } from '../src/paths.js';
import { testApp, tempDir } from './helpers.js';

// ---- issue 12: meta limits, unwritable database, paging bounds, all-zero lr ----

const goodPoints = [
  { step: 0, loss: 4.1, lr: 3e-4 },
  { step: 100, loss: 3.9, lr: 2e-4 },
];

function nested(depth: number): Record<string, unknown> {
  let meta: Record<string, unknown> = {};
  for (let i = 0; i < depth; i++) meta = { a: meta };
  return meta;
}

test('issue 12: meta nested too deep is a 400 naming meta (JSON and CSV), and lists still answer', async () => {
  const { app, close } = await testApp();
  try {
    for (const depth of [17, 4110, 4111, 20000]) {
      // the JSON text is built by hand: JSON.stringify itself overflows on such nesting
      const meta = '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);
      const payload = `{"name":"deep${depth}","meta":${meta},"points":${JSON.stringify(goodPoints)}}`;
      const res = await app.inject({ method: 'POST', url: '/curves', headers: { 'content-type': 'application/json' }, payload });
      assert.equal(res.statusCode, 400, `depth ${depth}: ${res.body.slice(0, 200)}`);
      assert.equal(res.json().field, 'meta');
      assert.match(res.json().detail, /depth|deep/);
    }
    const ok = await app.inject({ method: 'POST', url: '/curves', payload: { name: 'ok', meta: nested(15), points: goodPoints } }); // 16 levels of objects
    assert.equal(ok.statusCode, 201, ok.body);
    const csv = 'step,loss,lr\n0,4.1,0.0003\n100,3.9,0.0002\n';
    const q = new URLSearchParams({ name: 'csvdeep', meta: '{"a":'.repeat(4110) + '{}' + '}'.repeat(4110) });
    const viaCsv = await app.inject({ method: 'POST', url: `/curves?${q}`, headers: { 'content-type': 'text/csv' }, payload: csv });
    assert.equal(viaCsv.statusCode, 400, viaCsv.body.slice(0, 200));
    assert.equal(viaCsv.json().field, 'meta');
    const list = await app.inject({ method: 'GET', url: '/curves' });
    assert.equal(list.statusCode, 200, list.body.slice(0, 200));
    assert.equal(list.json().total, 1);
  } finally {
    await close();
  }
});

test('issue 12: a meta over the size limit is a 400 naming meta; list pages stay small', async () => {
  const { app, close } = await testApp();
  try {
    const big = { blob: 'x'.repeat(2 * 1024 * 1024) };
    const res = await app.inject({ method: 'POST', url: '/curves', payload: { name: 'big', meta: big, points: goodPoints } });
    assert.equal(res.statusCode, 400, res.body.slice(0, 200));
    assert.equal(res.json().field, 'meta');
    assert.match(res.json().detail, /16384 bytes|16 KiB/);
    const under = await app.inject({ method: 'POST', url: '/curves', payload: { name: 'small', meta: { blob: 'x'.repeat(15_000) }, points: goodPoints } });
    assert.equal(under.statusCode, 201, under.body.slice(0, 200));
    const list = await app.inject({ method: 'GET', url: '/curves' });
    assert.equal(list.statusCode, 200);
    assert.ok(list.body.length < 20_000);
  } finally {
    await close();
  }
});

test('issue 12: huge offsets are a 400 naming offset, not a 500', async () => {
  const { app, close } = await testApp();
  try {
    for (const url of ['/curves?offset=9223372036854775807', '/fits?offset=1e20', '/curves?offset=1000000001']) {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
      assert.equal(res.json().field, 'offset');
    }
    const ok = await app.inject({ method: 'GET', url: '/curves?offset=1000000000' });
    assert.equal(ok.statusCode, 200, ok.body);
  } finally {
    await close();
  }
});

test('issue 12: a curve whose lrs are all 0 is refused at upload (400, schedule)', async () => {
  const { app, close } = await testApp();
  try {
    const zero = [
      { step: 0, loss: 4.1, lr: 0 },
      { step: 100, loss: 3.9, lr: 0 },
    ];
    const res = await app.inject({ method: 'POST', url: '/curves', payload: { name: 'zero', points: zero } });
    assert.equal(res.statusCode, 400, res.body);
    assert.equal(res.json().field, 'schedule');
    assert.match(res.json().detail, /lr/);
    const csv = await app.inject({
      method: 'POST',
      url: '/curves?name=zerocsv',
      headers: { 'content-type': 'text/csv' },
      payload: 'step,loss,lr\n0,4.1,0\n100,3.9,0\n',
    });
    assert.equal(csv.statusCode, 400, csv.body);
    assert.equal(csv.json().field, 'schedule');
    // a warmup from 0 to a positive lr is fine
    const warm = await app.inject({ method: 'POST', url: '/curves', payload: { name: 'warm', points: [{ step: 0, loss: 4, lr: 0 }, { step: 10, loss: 3, lr: 1e-3 }] } });
    assert.equal(warm.statusCode, 201, warm.body);
  } finally {
    await close();
  }
});

async function runServerExpectingFailure(dbPath: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', projectPath('src', 'server.ts')], {
    cwd: projectPath(),
    env: { ...process.env, PORT: '0', LRCAST_DB: dbPath, LRCAST_SEED: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(null);
    }, 10_000);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  return { code, stderr, stdout };
}

test('issue 12: an unusable LRCAST_DB exits non-zero at once with one line naming it', async () => {
  const { dir, cleanup } = tempDir();
  try {
    for (const dbPath of [dir, '/proc/version', '/proc/lrcast.sqlite']) {
      const { code, stderr, stdout } = await runServerExpectingFailure(dbPath);
      assert.notEqual(code, null, `${dbPath}: hung (killed after 10 s)\n${stderr}${stdout}`);
      assert.notEqual(code, 0, `${dbPath}: exit code 0`);
      const lines = stderr.split('\n').filter((l) => l.trim() !== '');
      assert.equal(lines.length, 1, `${dbPath}: stderr\n${stderr}`);
      assert.match(lines[0]!, /LRCAST_DB/);
      assert.doesNotMatch(stderr, /^ {4}at /m);
    }
  } finally {
    cleanup();
  }
});

// ---- issue 12 (6, 9, 10): optimize domains, echoed input, lenient parsing ----

const MPL = [3.04045406, 0.52468604, 0.50786857, 363.78751622, 2.06560812, 0.58279013, 0.64142257];

test('issue 12: optimize params of 1e308 or peakLr 1e308 are a 400 naming the field, and nothing is stored', async () => {
  const { app, close } = await testApp();
  try {
    const base = { law: 'mpl', params: MPL, totalSteps: 200, peakLr: 1e-3, warmupSteps: 10, restarts: 2, budgetMs: 200 };
    const cases: [Record<string, unknown>, string, RegExp?][] = [
      [{ params: MPL.map((v, i) => (i === 3 ? 1e308 : v)) }, 'params[3]'],
      [{ params: MPL.map((v, i) => (i === 0 ? -1e308 : v)) }, 'params[0]'],
      [{ params: MPL.map((v, i) => (i === 2 ? 0 : v)) }, 'params[2]', /alpha > 0/],
      [{ peakLr: 1e308 }, 'peakLr', /not a learning rate/],
      [{ peakLr: 1.5 }, 'peakLr'],
    ];
    for (const [patch, field, detail] of cases) {
      for (const url of ['/optimize-schedule', '/optimize-schedule?async=1']) {
        const res = await app.inject({ method: 'POST', url, payload: { ...base, ...patch } });
        assert.equal(res.statusCode, 400, `${JSON.stringify(patch)}: ${res.body}`);
        assert.equal(res.json().field, field);
        if (detail) assert.match(res.json().detail, detail);
      }
    }
    assert.equal(await app.store.schedules.get(1), undefined);
    // a sane request still works and is stored
    const ok = await app.inject({ method: 'POST', url: '/optimize-schedule', payload: { ...base, peakLr: 1 } });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.ok(Number.isFinite(ok.json().predictedFinalLoss));
  } finally {
    await close();
  }
});

test('issue 12: a huge one-line CSV is a 400 whose detail echoes at most a short prefix of the body; CR-only line ends are accepted', async () => {
  const { app, close } = await testApp();
  try {
    const rows = ['step,loss'];
    for (let i = 0, n = 9; n < 11_800_000; i++) n += rows[rows.push(`${i},${(4 - i * 1e-7).toFixed(6)}`) - 1]!.length + 1;
    // The 11.8 MB CR-only CSV of the issue is now read (old Mac line ends); with no line ends at all it is one huge header.
    const crOnly = await app.inject({ method: 'POST', url: '/curves?name=cr&schedule=constant:peak=3e-4,total=200000', headers: { 'content-type': 'text/csv' }, payload: rows.slice(0, 100_001).join('\r') });
    assert.equal(crOnly.statusCode, 201, crOnly.body.slice(0, 300));
    assert.equal(crOnly.json().pointCount, 100_000);
    const payload = rows.join(';');
    const res = await app.inject({ method: 'POST', url: '/curves?name=cr', headers: { 'content-type': 'text/csv' }, payload });
    assert.equal(res.statusCode, 400);
    assert.ok(res.body.length < 1000, `${res.body.length} bytes of problem`);
    assert.equal(res.json().field, 'header');
    assert.match(res.json().detail, new RegExp(`… \\(${payload.length} characters\\)`));
    // a long bad cell and a long schedule spec are clipped too
    const cell = await app.inject({ method: 'POST', url: '/curves?name=c', headers: { 'content-type': 'text/csv' }, payload: `step,loss\n1,${'x'.repeat(100_000)}\n` });
    assert.equal(cell.statusCode, 400);
    assert.ok(cell.body.length < 1000, `${cell.body.length} bytes of problem`);
    const spec = await app.inject({ method: 'POST', url: '/curves?name=s', headers: { 'content-type': 'application/json' }, payload: { name: 's', schedule: `constant:${'k'.repeat(50_000)}=1,peak=1,total=10`, points: [{ step: 0, loss: 3 }] } });
    assert.equal(spec.statusCode, 400, spec.body.slice(0, 300));
    assert.ok(spec.body.length < 1500, `${spec.body.length} bytes of problem`);
    const json = await app.inject({ method: 'POST', url: '/curves', payload: { name: 'j', points: [{ step: 0, loss: 'y'.repeat(100_000) }] } });
    assert.equal(json.statusCode, 400);
    assert.ok(json.body.length < 1000, `${json.body.length} bytes of problem`);
  } finally {
    await close();
  }
});

test('issue 12: ids are plain decimal integers: /curves/1e1 and /curves/0x1 are a 400 naming id', async () => {
  const { app, close } = await testApp();
  try {
    const made = await app.inject({ method: 'POST', url: '/curves?name=a', headers: { 'content-type': 'text/csv' }, payload: 'step,lr,loss\n0,1e-3,4\n1,1e-3,3.9\n' });
    assert.equal(made.statusCode, 201, made.body);
    const id = made.json().id as number;
    assert.equal(id, 1);
    for (const bad of ['1e0', '1e1', '0x1', '01', '0', '+1', '1.0', ' 1', '12345678901234567']) {
      const res = await app.inject({ method: 'GET', url: `/curves/${encodeURIComponent(bad)}` });
      assert.equal(res.statusCode, 400, `${bad}: ${res.body}`);
      assert.equal(res.json().field, 'id');
    }
    assert.equal((await app.inject({ method: 'GET', url: '/curves/1' })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/fits/0x1' })).statusCode, 400);
    assert.equal((await app.inject({ method: 'GET', url: '/jobs/1e1' })).statusCode, 400);
  } finally {
    await close();
  }
});

test('issue 12: schedule numbers are decimal: peak=0x10, 0b1, 0o7, Infinity or empty are a 400 on that key', async () => {
  const { app, close } = await testApp();
  try {
    for (const peak of ['0x10', '0b1', '0o7', 'Infinity', '', '1_0']) {
      const res = await app.inject({ method: 'GET', url: `/schedules/expand?schedule=${encodeURIComponent(`constant:peak=${peak},total=10`)}` });
      assert.equal(res.statusCode, 400, `peak=${peak}: ${res.body}`);
      assert.equal(res.json().field, 'schedule.peak');
    }
    const hexTotal = await app.inject({ method: 'GET', url: `/schedules/expand?schedule=${encodeURIComponent('constant:peak=1e-3,total=0xA')}` });
    assert.equal(hexTotal.json().field, 'schedule.total');
    const ok = await app.inject({ method: 'GET', url: `/schedules/expand?schedule=${encodeURIComponent('constant:peak=1.5e-3,total=1E1')}` });
    assert.equal(ok.statusCode, 200, ok.body);
  } finally {
    await close();
  }
});

test('issue 12: CSV rows with extra cells and headers with duplicated columns are a 400', async () => {
  const { app, close } = await testApp();
  try {
    const post = (payload: string) => app.inject({ method: 'POST', url: '/curves?name=x', headers: { 'content-type': 'text/csv' }, payload });
    const extra = await post('step,loss\n0,4\n1,3.9,7\n');
    assert.equal(extra.statusCode, 400);
    assert.equal(extra.json().field, 'points[1]');
    for (const header of ['step,loss,loss', 'step,step,loss', 'step,lr,loss,LR']) {
      const cells = header.split(',').length;
      const res = await post(`${header}\n${Array(cells).fill('1').join(',')}\n`);
      assert.equal(res.statusCode, 400, `${header}: ${res.body}`);
      assert.equal(res.json().field, 'header');
      assert.match(res.json().detail, /more than once/);
    }
  } finally {
    await close();
  }
});

test('issue 12: a __proto__ key in a JSON body is a 400 saying the key is not allowed, not "invalid JSON"', async () => {
  const { app, close } = await testApp();
  try {
    for (const [payload, field] of [
      ['{"name":"x","__proto__":{"admin":true},"points":[{"step":0,"loss":3}]}', '__proto__'],
      ['{"name":"x","meta":{"a":[{"\\u005f_proto__":1}]},"points":[{"step":0,"loss":3}]}', 'meta.a[0].__proto__'],
      ['{"name":"x","meta":{"constructor":{"prototype":{}}},"points":[{"step":0,"loss":3}]}', 'meta.constructor.prototype'],
    ] as const) {
      const res = await app.inject({ method: 'POST', url: '/curves', headers: { 'content-type': 'application/json' }, payload });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().field, field);
      assert.match(res.json().detail, /is not allowed/);
      assert.doesNotMatch(res.json().detail, /not valid JSON/);
    }
    const broken = await app.inject({ method: 'POST', url: '/curves', headers: { 'content-type': 'application/json' }, payload: '{"name":' });
    assert.equal(broken.statusCode, 400);
    assert.match(broken.json().detail, /not valid JSON/);
  } finally {
    await close();
  }
});

test('issue 12: JSON bodies are not coerced (curveIds ["1"], string params), query strings still are', async () => {
  const { app, close } = await testApp();
  try {
    const fit = await app.inject({ method: 'POST', url: '/fit', payload: { curveIds: ['1'], law: 'mpl' } });
    assert.equal(fit.statusCode, 400, fit.body);
    assert.equal(fit.json().field, 'curveIds[0]');
    const params = MPL.map(String);
    const opt = await app.inject({ method: 'POST', url: '/optimize-schedule', payload: { law: 'mpl', params, totalSteps: 200, peakLr: 1e-3, warmupSteps: 10 } });
    assert.equal(opt.statusCode, 400, opt.body);
    assert.equal(opt.json().field, 'params[0]');
    const peak = await app.inject({ method: 'POST', url: '/optimize-schedule', payload: { law: 'mpl', params: MPL, totalSteps: '200', peakLr: 1e-3, warmupSteps: 10 } });
    assert.equal(peak.statusCode, 400, peak.body);
    assert.equal(peak.json().field, 'totalSteps');
    // query strings are text: still coerced
    const page = await app.inject({ method: 'GET', url: '/curves?limit=5&offset=0' });
    assert.equal(page.statusCode, 200, page.body);
    assert.equal(page.json().limit, 5);
  } finally {
    await close();
  }
});

test('issue 12: a point value nested deeper than JSON.stringify can recurse is a 400 naming it, not a 500', async () => {
  const { app, close } = await testApp();
  try {
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    const res = await app.inject({
      method: 'POST',
      url: '/curves',
      headers: { 'content-type': 'application/json' },
      payload: `{"name":"deep","points":[{"step":${deep},"loss":1}]}`,
    });
    assert.equal(res.statusCode, 400, res.body.slice(0, 300));
    assert.equal(res.json().field, 'points[0].step');
    assert.ok(res.json().detail.length < 400, res.json().detail);
  } finally {
    await close();
  }
});

// ---- issue 12: defects 1 and 8 ----

import { connect } from 'node:net';

const PUBLISHED_100M = '2.6514477,0.60115152,0.45295811,437.9464276,2.13245612,0.59785199,0.65523644';
const predictUrl = (schedule: string, extra = '') => `/predict?law=mpl&params=${PUBLISHED_100M}&schedule=${encodeURIComponent(schedule)}${extra}`;

test('issue 12 (1): /predict bounds its answer and its work with a 400 naming the field, the limit and what fits; long predictions leave the event loop free', async () => {
  const { app, close } = await testApp();
  try {
    // Before: 65 s of blocked event loop and about 3 GB (cosine), a 264 MB answer (constant).
    for (const family of ['cosine:peak=3e-4,total=9999999,final=1e-5', 'constant:peak=3e-4,total=9999999']) {
      const res = await app.inject({ url: predictUrl(family, '&every=1') });
      assert.equal(res.statusCode, 400, res.body.slice(0, 300));
      assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.equal(res.json().field, 'every');
      assert.match(res.json().detail, /9,999,999 points .* over the limit of 100,000 points in an answer: give every=101 or more/);
    }
    // Too much work for one prediction (f costs about 12 us a step): the schedule is at fault, and the detail says how long it may be.
    const slowF = `expr:total=9999999,peak=3e-4,f=peak+${'abs(sin(s))*0+'.repeat(65)}0`;
    const slow = await app.inject({ url: predictUrl(slowF) });
    assert.equal(slow.statusCode, 400, slow.body.slice(0, 300));
    assert.equal(slow.json().field, 'schedule');
    assert.match(slow.json().detail, /over the limit of 6\.0 s for one prediction: give a schedule of at most about [\d,]+ steps/);
    // A steps list over the answer limit is refused before it is parsed; via POST too.
    const many = Array.from({ length: 100_001 }, (_, i) => i).join(',');
    const listed = await app.inject({ method: 'POST', url: '/predict', payload: { law: 'mpl', params: PUBLISHED_100M, schedule: 'constant:peak=3e-4,total=200000', steps: many } });
    assert.equal(listed.statusCode, 400, listed.body.slice(0, 300));
    assert.equal(listed.json().field, 'steps');
    // The advice is not off by one: every=100 still gives 100,001 points.
    const justOver = await app.inject({ url: predictUrl('constant:peak=3e-4,total=9999999', '&every=100') });
    assert.equal(justOver.json().field, 'every');

    // A 2,000,000-step prediction (a heavy one, on a worker thread): /health answers while it runs.
    const order: string[] = [];
    const heavy = app.inject({ url: predictUrl('cosine:peak=3e-4,warmup=2160,total=2000000,final=3e-5') }).then((r) => (order.push('predict'), r));
    await new Promise((r) => setTimeout(r, 50));
    const health = await app.inject({ url: '/health' }).then((r) => (order.push('health'), r));
    assert.equal(health.statusCode, 200);
    const done = await heavy;
    assert.equal(done.statusCode, 200, done.body.slice(0, 300));
    assert.deepEqual(order, ['health', 'predict'], 'the prediction held the event loop');
    assert.equal(done.json().steps.length, 500);
  } finally {
    await close();
  }
});

/** A raw HTTP/1.1 GET whose path is `path` (a socket, so no client refuses it first): the answer's text, or the socket error. */
function rawGet(port: number, path: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(`${error.code} after ${JSON.stringify(text.slice(0, 200))}`));
    socket.on('end', () => resolve(text));
    socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  });
}

test('issue 12 (8): errors fastify and Node answer before a route are problem+json; long specs fit in a query or a POST /predict body', async () => {
  const { app, close } = await testApp();
  try {
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const port = Number(new URL(base).port);
    const problemOf = async (res: Response) => {
      assert.equal(res.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      return (await res.json()) as { status: number; title: string; detail: string; field?: string };
    };
    // Before: 414 as fastify's own JSON.
    const longId = await fetch(`${base}/curves/${'1'.repeat(500)}`);
    assert.equal(longId.status, 414);
    assert.match((await problemOf(longId)).detail, /over the limit of 100 characters/);
    const badUrl = await fetch(`${base}/curves/%E0%A4%A`);
    assert.equal(badUrl.status, 400);
    assert.match((await problemOf(badUrl)).detail, /not valid/);

    // Before: 431 from Node for a 1000-knot piecewise spec (about 35 KB of query).
    const knots = Array.from({ length: 1000 }, (_, i) => `${i * 24}=${(3e-4 * (1 - i / 1000) + 1e-6).toPrecision(17)}`).join(';');
    const viaGet = await fetch(base + predictUrl(`piecewise:${knots}`));
    assert.equal(viaGet.status, 200, (await viaGet.clone().text()).slice(0, 300));
    const viaPost = await fetch(`${base}/predict`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ law: 'mpl', params: PUBLISHED_100M, schedule: `piecewise:${knots}` }),
    });
    assert.equal(viaPost.status, 200);
    assert.deepEqual(await viaPost.json(), await viaGet.json());
    const strict = await fetch(`${base}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ law: 'mpl', params: PUBLISHED_100M, schedule: 'constant:peak=1e-3,total=100', every: '10' }) });
    assert.equal(strict.status, 400);
    assert.equal((await problemOf(strict)).field, 'every');

    // Over the header limit: 431 problem+json saying to POST, for a 200 KB query and (no reset) a 4 MB one.
    const tooLong = await fetch(`${base}/predict?schedule=${'k'.repeat(200_000)}`);
    assert.equal(tooLong.status, 431);
    assert.match((await problemOf(tooLong)).detail, /POST \/predict/);
    const raw = await rawGet(port, `/predict?schedule=${'k'.repeat(4_000_000)}`);
    assert.match(raw, /^HTTP\/1\.1 431 /);
    assert.match(raw, /content-type: application\/problem\+json/i);
    assert.match(raw, /"status":431/);
  } finally {
    await close();
  }
});

// ---- issue 12: defects 7 and 11 ----

import { initBackend } from '../src/optimize/index.js';

test('issue 12 (7): no server paths in /health backend notes or optimize warnings; no source maps in the production build', async () => {
  const { app, close } = await testApp();
  const root = projectPath();
  try {
    // The search loads the optimizer backend, whose notes (why tfjs-node-gpu did not load) /health then shows.
    const search = await app.inject({
      method: 'POST',
      url: '/optimize-schedule',
      payload: { law: 'mpl', params: MPL, totalSteps: 2000, peakLr: 3e-4, warmupSteps: 100, budgetMs: 300, restarts: 2 },
    });
    assert.equal(search.statusCode, 200, search.body.slice(0, 300));
    assert.ok(!search.body.includes(root), `optimize answer leaks ${root}`);
    await initBackend(); // as src/server.ts does at start-up: /health then reports it and its notes
    const health = await app.inject({ method: 'GET', url: '/health' });
    assert.equal(health.statusCode, 200);
    assert.ok(health.json().backend, 'the backend is loaded');
    assert.ok(!health.body.includes(root), `/health leaks ${root}: ${health.body}`);
    assert.doesNotMatch(health.body, /"\/(?:home|work|usr|tmp|root|opt)\//);
    // The dashboard is built without source maps (npm test builds it with `npm run build`).
    const map = await app.inject({ method: 'GET', url: '/app.js.map' });
    assert.equal(map.statusCode, 404);
    const js = await app.inject({ method: 'GET', url: '/app.js' });
    assert.equal(js.statusCode, 200);
    assert.doesNotMatch(js.body, /sourceMappingURL/);
  } finally {
    await close();
  }
});

test('issue 12 (11): a full database or disk is a 507 problem+json saying so, and nothing partial is stored', async () => {
  // LRCAST_DB_MAX_MB caps the database file (SQLite max_page_count): writes past it fail as on a full disk.
  const { app, close } = await testApp({ dbMaxBytes: 256 * 1024 });
  try {
    const points = Array.from({ length: 2000 }, (_, i) => ({ step: i * 10, loss: 4 - i * 1e-4, lr: 3e-4 }));
    let stored = 0;
    let full: { statusCode: number; json: () => any; headers: Record<string, unknown> } | undefined;
    for (let i = 0; i < 100 && !full; i++) {
      const res = await app.inject({ method: 'POST', url: '/curves', payload: { name: `run-${i}`, points } });
      if (res.statusCode === 201) stored++;
      else full = res;
    }
    assert.ok(full, 'the database filled up');
    assert.equal(full.statusCode, 507);
    assert.match(String(full.headers['content-type']), /application\/problem\+json/);
    assert.match(full.json().detail, /storage is full/);
    assert.equal(full.json().title, 'Insufficient Storage');
    const list = await app.inject({ method: 'GET', url: '/curves?limit=200' });
    assert.equal(list.statusCode, 200);
    assert.equal(list.json().total, stored, 'the refused curve left nothing behind');
    for (const item of list.json().items) {
      const curve = await app.inject({ method: 'GET', url: `/curves/${item.id}` });
      assert.equal(curve.json().points.length, 2000, `curve ${item.id} is whole`);
    }
    // Deleting frees room: the next upload fits again.
    const first = list.json().items[0].id;
    assert.equal((await app.inject({ method: 'DELETE', url: `/curves/${first}` })).statusCode, 204);
    assert.equal((await app.inject({ method: 'POST', url: '/curves', payload: { name: 'after-delete', points } })).statusCode, 201);
  } finally {
    await close();
  }
});

test('issue 12 (10): number-typed query parameters are plain decimal too: lambda=0x10 or Infinity is a 400 naming lambda', async () => {
  const { app, close } = await testApp();
  try {
    for (const lambda of ['0x10', 'Infinity', '%201', '1e']) {
      const res = await app.inject({ method: 'GET', url: `/predict?law=lra&params=2,0.5,0.5,100&schedule=constant:peak=1e-3,total=100&lambda=${lambda}` });
      assert.equal(res.statusCode, 400, `lambda=${lambda}: ${res.body}`);
      assert.equal(res.json().field, 'lambda');
    }
    const ok = await app.inject({ method: 'GET', url: '/predict?law=lra&params=2,0.5,0.5,100&schedule=constant:peak=1e-3,total=100&lambda=0.999' });
    assert.equal(ok.statusCode, 200, ok.body);
  } finally {
    await close();
  }
});

test('query numbers beyond float64 (hundreds of digits, 1e400) are a 400 naming the key, not coerced to Infinity (a 404 "no fit with id Infinity" before)', async () => {
  const { app, close } = await testApp();
  try {
    const digits = '9'.repeat(400);
    const cases: [string, string][] = [
      [`/predict?fit=${digits}&schedule=constant:peak=1e-3,total=100`, 'fit'],
      [`/baselines?fit=${digits}&totalSteps=10&peakLr=1e-3&warmupSteps=0`, 'fit'],
      [`/baselines?fit=1&totalSteps=10&peakLr=1e400&warmupSteps=0`, 'peakLr'],
      [`/curves?limit=${digits}`, 'limit'],
    ];
    for (const [url, field] of cases) {
      const res = await app.inject({ method: 'GET', url });
      assert.equal(res.statusCode, 400, `${url.slice(0, 60)}: ${res.body}`);
      assert.equal(res.json().field, field);
      assert.match(res.json().detail, /beyond the float64 range/);
    }
  } finally {
    await close();
  }
});

test('issue 12 (1): /schedules/expand bounds its answer and an expr spec bounds its inline work; uploads too', async () => {
  const { app, close } = await testApp();
  try {
    const expand = (spec: string, every?: number) =>
      app.inject({ method: 'GET', url: `/schedules/expand?schedule=${encodeURIComponent(spec)}${every ? `&every=${every}` : ''}` });
    const dense = await expand('cosine:peak=3e-4,total=10000000,final=1e-5', 1);
    assert.equal(dense.statusCode, 400);
    assert.equal(dense.json().field, 'every');
    assert.match(dense.json().detail, /every=101 or more/); // every=100 would give 100,001 values (the last step is added)
    const thinned = await expand('cosine:peak=3e-4,total=10000000,final=1e-5');
    assert.equal(thinned.statusCode, 200);
    assert.ok(thinned.json().lrs.length <= 100_000);
    const longF = `expr:total=10000000,peak=1,f=${'peak*'.repeat(100)}1`;
    const refused = await expand(longF, 1_000_000);
    assert.equal(refused.statusCode, 400, refused.body.slice(0, 300));
    assert.equal(refused.json().field, 'schedule.total');
    assert.match(refused.json().detail, /at most \d+ steps/);
    const upload = await app.inject({ method: 'POST', url: '/curves', payload: { name: 'e', schedule: longF, points: [{ step: 0, loss: 3 }] } });
    assert.equal(upload.statusCode, 400);
    assert.equal(upload.json().field, 'schedule.total');
    // The same f over fewer steps is fine.
    assert.equal((await expand(`expr:total=20000,peak=1,f=${'peak*'.repeat(100)}1`, 100)).statusCode, 200);
    // A curve's schedule answers at most 100,000 values too.
    const long = await app.inject({ method: 'POST', url: '/curves', payload: { name: 'long', schedule: 'cosine:peak=3e-4,total=2000000,final=1e-5', points: [{ step: 0, loss: 4 }, { step: 10, loss: 3.9 }] } });
    assert.equal(long.statusCode, 201, long.body);
    const dense2 = await app.inject({ method: 'GET', url: `/curves/${long.json().id}/schedule?every=1` });
    assert.equal(dense2.statusCode, 400);
    assert.equal(dense2.json().field, 'every');
    assert.match(dense2.json().detail, /every=21 or more/);
    assert.equal((await app.inject({ method: 'GET', url: `/curves/${long.json().id}/schedule?every=20` })).statusCode, 400, 'every=20 gives 100,001 values');
    assert.equal((await app.inject({ method: 'GET', url: `/curves/${long.json().id}/schedule?every=21` })).statusCode, 200);
  } finally {
    await close();
  }
});

test('issue 12 (1): an async search over 100,000 steps answers GET /jobs/{id} without its millions of lrs, pointing to the schedule', async () => {
  const { app, close } = await testApp();
  try {
    const started = await app.inject({
      method: 'POST',
      url: '/optimize-schedule?async=1',
      payload: { law: 'mpl', params: MPL, totalSteps: 150_000, peakLr: 3e-4, warmupSteps: 1000, space: 'wsd', budgetMs: 500, restarts: 2 },
    });
    assert.equal(started.statusCode, 202, started.body);
    const jobId = started.json().jobId;
    let job: any;
    for (let i = 0; i < 300; i++) {
      job = (await app.inject({ method: 'GET', url: `/jobs/${jobId}` })).json();
      if (job.status !== 'queued' && job.status !== 'running') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(job.status, 'done', JSON.stringify(job).slice(0, 300));
    assert.equal(job.result.lrs, undefined);
    assert.match(job.result.lrsOmitted, /150000 steps/);
    const csv = await app.inject({ method: 'GET', url: `/schedules/${job.result.scheduleId}?format=csv` });
    assert.equal(csv.statusCode, 200);
  } finally {
    await close();
  }
});
