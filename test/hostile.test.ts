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

test('issue 12: a huge CR-only CSV is a 400 whose detail echoes at most a short prefix of the body', async () => {
  const { app, close } = await testApp();
  try {
    const rows = ['step,loss'];
    for (let i = 0, n = 9; n < 11_800_000; i++) n += rows[rows.push(`${i},${(4 - i * 1e-7).toFixed(6)}`) - 1]!.length + 1;
    const payload = rows.join('\r');
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
