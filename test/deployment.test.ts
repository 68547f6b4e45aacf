/**
 * What a shared deployment needs (issue 12): security headers, CORS off unless configured, rate
 * limits on writes and heavy routes, read tokens, load shedding, and a safe default listen address.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { testApp } from './helpers.js';
import { loadConfig } from '../src/config.js';

const curve = { name: 'c', points: [{ step: 0, loss: 4, lr: 3e-4 }, { step: 10, loss: 3.9, lr: 3e-4 }] };

test('security headers: CSP, nosniff and frame options on the dashboard and the API', async () => {
  const { app, close } = await testApp();
  try {
    for (const url of ['/', '/health', '/curves', '/no-such-route']) {
      const res = await app.inject({ method: 'GET', url });
      const csp = String(res.headers['content-security-policy']);
      assert.match(csp, /default-src 'self'/, url);
      assert.match(csp, /script-src 'self'/, url);
      assert.match(csp, /frame-ancestors 'none'/, url);
      assert.doesNotMatch(csp, /upgrade-insecure-requests/, url);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', url);
      assert.equal(res.headers['x-frame-options'], 'DENY', url);
    }
  } finally {
    await close();
  }
});

test('CORS is off by default and allows only the configured origins', async () => {
  const off = await testApp();
  try {
    const res = await off.app.inject({ method: 'GET', url: '/curves', headers: { origin: 'https://evil.example' } });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['access-control-allow-origin'], undefined);
  } finally {
    await off.close();
  }
  const on = await testApp({ corsOrigins: ['https://dash.example'] });
  try {
    const allowed = await on.app.inject({ method: 'GET', url: '/curves', headers: { origin: 'https://dash.example' } });
    assert.equal(allowed.headers['access-control-allow-origin'], 'https://dash.example');
    const other = await on.app.inject({ method: 'GET', url: '/curves', headers: { origin: 'https://evil.example' } });
    assert.equal(other.headers['access-control-allow-origin'], undefined);
    const preflight = await on.app.inject({
      method: 'OPTIONS',
      url: '/curves',
      headers: { origin: 'https://dash.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
    });
    assert.equal(preflight.statusCode, 204, preflight.body);
    assert.match(String(preflight.headers['access-control-allow-methods']), /POST/);
    assert.match(String(preflight.headers['access-control-allow-headers']), /authorization/);
  } finally {
    await on.close();
  }
});

test('LRCAST_CORS_ORIGINS, LRCAST_RATE_LIMIT and HOST are checked and defaulted', () => {
  assert.deepEqual(loadConfig({ LRCAST_CORS_ORIGINS: 'https://a.example, http://b.example:8080' }).corsOrigins, ['https://a.example', 'http://b.example:8080']);
  assert.deepEqual(loadConfig({}).corsOrigins, []);
  assert.throws(() => loadConfig({ LRCAST_CORS_ORIGINS: 'https://a.example/path' }), /LRCAST_CORS_ORIGINS/);
  assert.throws(() => loadConfig({ LRCAST_RATE_LIMIT: '-5' }), /LRCAST_RATE_LIMIT/);
  assert.equal(loadConfig({}).rateLimitPerMinute, 600);
  assert.equal(loadConfig({ LRCAST_RATE_LIMIT: '0' }).rateLimitPerMinute, 0);
  // An empty HOST= is the loopback default, not every interface.
  assert.equal(loadConfig({ HOST: '' }).host, '127.0.0.1');
  assert.equal(loadConfig({ HOST: '  ' }).host, '127.0.0.1');
  assert.equal(loadConfig({}).host, '127.0.0.1');
  assert.equal(loadConfig({ HOST: '0.0.0.0' }).host, '0.0.0.0');
});

test('rate limit: writes and predictions over the limit are 429 problem+json with Retry-After; reads are not counted', async () => {
  const { app, close } = await testApp({ rateLimitPerMinute: 3 });
  try {
    for (let i = 0; i < 10; i++) assert.equal((await app.inject({ method: 'GET', url: '/curves' })).statusCode, 200, 'reads are not limited');
    for (let i = 0; i < 3; i++) assert.equal((await app.inject({ method: 'POST', url: '/curves', payload: { ...curve, name: `c${i}` } })).statusCode, 201);
    const over = await app.inject({ method: 'POST', url: '/curves', payload: { ...curve, name: 'c4' } });
    assert.equal(over.statusCode, 429, over.body);
    assert.match(String(over.headers['content-type']), /application\/problem\+json/);
    assert.ok(Number(over.headers['retry-after']) > 0);
    assert.match(over.json().detail, /3 requests per minute/);
    assert.equal((await app.inject({ method: 'GET', url: '/curves' })).json().total, 3, 'the refused curve is not stored');
    const predict = await app.inject({ method: 'GET', url: '/predict?law=lra&params=2,0.5,0.5,100&schedule=constant:peak=1e-3,total=100' });
    assert.equal(predict.statusCode, 429, 'predictions count as heavy');
  } finally {
    await close();
  }
});

test('read token: API reads need it (or the write token); health, dashboard and docs stay open; writes need the write token', async () => {
  const { app, close } = await testApp({ token: 'write-secret', readToken: 'read-secret' });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  try {
    const anonymous = await app.inject({ method: 'GET', url: '/curves' });
    assert.equal(anonymous.statusCode, 401);
    assert.equal(anonymous.json().field, 'authorization');
    assert.equal(anonymous.headers['www-authenticate'], 'Bearer');
    assert.equal((await app.inject({ method: 'GET', url: '/curves', headers: bearer('read-secret') })).statusCode, 200);
    assert.equal((await app.inject({ method: 'GET', url: '/curves', headers: bearer('write-secret') })).statusCode, 200);
    for (const wrong of ['read-secreT', 'r', 'read-secret-and-more', '']) {
      assert.equal((await app.inject({ method: 'GET', url: '/curves', headers: bearer(wrong) })).statusCode, 401, `token ${JSON.stringify(wrong)}`);
    }
    for (const url of ['/health', '/', '/docs/json']) assert.equal((await app.inject({ method: 'GET', url })).statusCode, 200, url);
    assert.equal((await app.inject({ method: 'POST', url: '/curves', payload: curve, headers: bearer('read-secret') })).statusCode, 401, 'the read token cannot write');
    // POST /predict is a read (a long spec in a body): the read token is enough, none is not.
    const predictBody = { law: 'lra', params: '2,0.5,0.5,100', schedule: 'constant:peak=1e-3,total=100' };
    assert.equal((await app.inject({ method: 'POST', url: '/predict', payload: predictBody, headers: bearer('read-secret') })).statusCode, 200);
    assert.equal((await app.inject({ method: 'POST', url: '/predict', payload: predictBody })).statusCode, 401);
    assert.equal((await app.inject({ method: 'POST', url: '/curves', payload: curve, headers: bearer('write-secret') })).statusCode, 201);
  } finally {
    await close();
  }
  const readOnly = await testApp({ readToken: 'only' });
  try {
    assert.equal((await readOnly.app.inject({ method: 'POST', url: '/curves', payload: curve })).statusCode, 401, 'a read token alone guards writes too');
    assert.equal((await readOnly.app.inject({ method: 'POST', url: '/curves', payload: curve, headers: bearer('only') })).statusCode, 201);
  } finally {
    await readOnly.close();
  }
});

test('under pressure: a saturated event loop answers 503 problem+json with Retry-After', async () => {
  const { app, close } = await testApp({ maxEventLoopDelayMs: 50 });
  try {
    // Keep the loop busy in 200 ms slices for over one sampling interval (1 s), so the mean delay is far above 50 ms.
    const until = Date.now() + 1600;
    while (Date.now() < until) {
      const sliceEnd = Date.now() + 200;
      while (Date.now() < sliceEnd);
      await nextTurn();
    }
    const res = await app.inject({ method: 'GET', url: '/health' });
    assert.equal(res.statusCode, 503, res.body);
    assert.match(String(res.headers['content-type']), /application\/problem\+json/);
    assert.equal(res.headers['retry-after'], '5');
    assert.match(res.json().detail, /overloaded/);
  } finally {
    await close();
  }
});
