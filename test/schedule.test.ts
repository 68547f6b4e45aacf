/** Schedule grammar: every family against the formulas of fixtures/README.md, and every rejection. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandSchedule, sampleSteps, evenSteps } from '../src/schedule/expand.js';
import { parseSchedule, formatSchedule, ScheduleError } from '../src/schedule/spec.js';
import { expandScheduleCached } from '../src/schedule/cache.js';

const peak = 3e-4;
const warmup = 2160;

function assertClose(actual: Float64Array, expected: (s: number) => number, tol = 1e-15) {
  for (let s = 0; s < actual.length; s++) {
    const e = expected(s);
    const err = Math.abs(actual[s]! - e);
    assert.ok(err <= tol * Math.abs(e) || err === 0, `step ${s}: ${actual[s]} vs ${e}`);
  }
}

const warm = (s: number) => (peak * s) / (warmup - 1);

test('warmup is linear from 0 and reaches peak at warmup-1', () => {
  const lrs = expandSchedule('constant:peak=3e-4,warmup=2160,total=24000');
  assert.equal(lrs.length, 24000);
  assert.equal(lrs[0], 0);
  assert.equal(lrs[warmup - 1], peak);
  assertClose(lrs, (s) => (s < warmup ? warm(s) : peak));
});

test('cosine follows final + (peak-final)/2 (1 + cos(pi (s-warmup)/(total-warmup)))', () => {
  const total = 24000;
  const final = 3e-5;
  const lrs = expandSchedule('cosine:peak=3e-4,warmup=2160,total=24000,final=3e-5');
  assertClose(lrs, (s) => (s < warmup ? warm(s) : final + 0.5 * (peak - final) * (1 + Math.cos((Math.PI * (s - warmup)) / (total - warmup)))));
  assert.deepEqual(parseSchedule('cosine:peak=1,total=10'), { family: 'cosine', peak: 1, total: 10, warmup: 0, final: 0 });
});

test('linear decays from the end of warmup to final at total-1', () => {
  const lrs = expandSchedule('linear:peak=1,total=11,warmup=1,final=0.1');
  assert.equal(lrs[1], 1);
  assert.ok(Math.abs(lrs[10]! - 0.1) < 1e-15);
  assertClose(lrs, (s) => (s < 1 ? 1 : 1 + ((0.1 - 1) * (s - 1)) / 9));
});

test('wsd shapes: exp, linear, cosine and 1-sqrt cooldown', () => {
  const total = 24000;
  const d = 20000;
  const final = 3e-5;
  const exp = expandSchedule(`wsd:peak=3e-4,warmup=2160,total=24000,decayStart=20000,final=3e-5,shape=exp`);
  assertClose(exp, (s) => (s < warmup ? warm(s) : s < d ? peak : peak ** ((total - s) / (total - d)) * final ** ((s - d) / (total - d))));
  const lin = expandSchedule(`wsd:peak=3e-4,warmup=2160,total=24000,decayStart=20000,final=3e-5,shape=linear`);
  assertClose(lin, (s) => (s < warmup ? warm(s) : s < d ? peak : peak + ((final - peak) * (s - d)) / (total - d)));
  const cos = expandSchedule(`wsd:peak=3e-4,warmup=2160,total=24000,decayStart=20000,final=3e-5,shape=cosine`);
  assertClose(cos, (s) => (s < warmup ? warm(s) : s < d ? peak : final + 0.5 * (peak - final) * (1 + Math.cos((Math.PI * (s - d)) / (total - d)))));
  const sqrt = expandSchedule(`wsd:peak=3e-4,warmup=2160,total=24000,decayStart=20000,final=0,shape=sqrt`);
  assertClose(sqrt, (s) => (s < warmup ? warm(s) : s < d ? peak : peak * (1 - Math.sqrt((s - d) / (total - d)))));
});

test('step: peak until `at`, then `to`; several steps', () => {
  const one = expandSchedule('step:peak=3e-4,warmup=2160,total=16000,at=8000,to=9e-5');
  assertClose(one, (s) => (s < warmup ? warm(s) : s < 8000 ? peak : 9e-5));
  const two = expandSchedule('step:peak=1,total=10,at=3;6,to=0.5;0.25');
  assert.deepEqual([...two], [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25, 0.25]);
});

test('piecewise interpolates linearly between knots; total = last knot + 1', () => {
  const lrs = expandSchedule('piecewise:0=0;4=1;8=0.5');
  assert.equal(lrs.length, 9);
  assert.deepEqual([...lrs], [0, 0.25, 0.5, 0.75, 1, 0.875, 0.75, 0.625, 0.5]);
});

test('formatSchedule round-trips through parseSchedule', () => {
  for (const spec of [
    'constant:peak=3e-4,warmup=2160,total=24000',
    'cosine:peak=3e-4,warmup=2160,total=72000,final=3e-5',
    'wsd:peak=3e-4,warmup=2160,total=24000,decayStart=20000,final=3e-5,shape=linear',
    'step:peak=3e-4,warmup=2160,total=16000,at=8000;9000,to=9e-5;1e-5',
    'piecewise:0=0;10=1e-3;99=1e-5',
  ]) {
    const parsed = parseSchedule(spec);
    assert.deepEqual(parseSchedule(formatSchedule(parsed)), parsed);
  }
});

test('bad specs are rejected naming the key', () => {
  const cases: [string, string][] = [
    ['cosin:peak=1,total=10', 'family'],
    ['cosine peak=1', 'schedule'],
    ['cosine:total=10', 'peak'],
    ['cosine:peak=abc,total=10', 'peak'],
    ['cosine:peak=Infinity,total=10', 'peak'],
    ['cosine:peak=-1,total=10', 'peak'],
    ['cosine:peak=1,total=10,final=-0.1', 'final'],
    ['cosine:peak=1,total=10,bogus=3', 'bogus'],
    ['cosine:peak=1,total=10,peak=2', 'peak'],
    ['cosine:peak=1,total=10.5', 'total'],
    ['cosine:peak=1,total=20000000', 'total'],
    ['cosine:peak=1,total=10,warmup=10', 'warmup'],
    ['wsd:peak=1,total=10,decayStart=10,final=0.1', 'decayStart'],
    ['wsd:peak=1,total=10,warmup=5,decayStart=2,final=0.1', 'decayStart'],
    ['wsd:peak=1,total=10,decayStart=5,final=0.1,shape=cubic', 'shape'],
    ['step:peak=1,total=10,at=5;3,to=0.1;0.2', 'at'],
    ['step:peak=1,total=10,at=5,to=0.1;0.2', 'to'],
    ['piecewise:0=1;5=2;5=3', 'knots'],
    ['piecewise:0=1;5=2;3=3', 'knots'],
    ['piecewise:1=1;5=2', 'knots'],
    ['piecewise:0=1;5=-2', 'knots'],
    ['piecewise:0=1;x=2', 'knots'],
    ['piecewise:0=1;5=abc', 'knots'],
    ['', 'schedule'],
  ];
  for (const [spec, key] of cases) {
    assert.throws(() => expandSchedule(spec), (e: unknown) => e instanceof ScheduleError && e.key === key, `${spec} should fail on ${key}`);
  }
});

test('sampleSteps and evenSteps always include the last step', () => {
  assert.deepEqual(sampleSteps(10, 4), [0, 4, 8, 9]);
  assert.deepEqual(sampleSteps(9, 4), [0, 4, 8]);
  const even = evenSteps(72000, 500);
  assert.equal(even[even.length - 1], 71999);
  assert.ok(even.length >= 500 && even.length <= 502);
});

test('expandScheduleCached: one shared array per canonical spec, equal to expandSchedule', () => {
  const a = expandScheduleCached(parseSchedule('cosine:peak=3e-4,warmup=100,total=1000,final=3e-5'));
  const b = expandScheduleCached(parseSchedule('cosine:total=1000,peak=0.0003,final=0.00003,warmup=100'));
  assert.equal(a, b, 'the same spec written two ways is one entry');
  assert.deepEqual(Array.from(a), Array.from(expandSchedule('cosine:peak=3e-4,warmup=100,total=1000,final=3e-5')));
  assert.notEqual(expandScheduleCached(parseSchedule('cosine:peak=3e-4,warmup=100,total=1000,final=0')), a);
});
