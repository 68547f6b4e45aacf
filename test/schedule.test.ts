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

// ---- expr: user-defined schedules (mathjs-parsed, allowlisted, compiled to closures) ----

const EXAMPLE = 'expr:total=24000,warmup=2160,peak=3e-4,f=peak*(1-(s-warmup)/(total-warmup))^2';

test('expr: the issue example expands to the usual warmup, then f from step warmup on', () => {
  const lrs = expandSchedule(EXAMPLE);
  assert.equal(lrs.length, 24000);
  const f = (s: number) => peak * (1 - (s - warmup) / (24000 - warmup)) ** 2;
  for (const s of [0, 1, 1000, warmup - 1]) assert.equal(lrs[s], warm(s), `warmup step ${s}`);
  for (const s of [warmup, warmup + 1, 12000, 20000, 23999]) assert.ok(Math.abs(lrs[s]! - f(s)) <= 1e-15 * f(s), `step ${s}: ${lrs[s]} vs ${f(s)}`);
  assert.equal(lrs[warmup], peak);
  assertClose(lrs, (s) => (s < warmup ? warm(s) : f(s)), 1e-14);
});

test('expr: user constants, commas inside f (f is the last key), comparisons and a ? b : c', () => {
  const lrs = expandSchedule('expr:total=100,peak=1,final=0.1,half=50,f=s < half ? peak : max(final, peak*exp(-(s-half)/10))');
  assert.equal(lrs[0], 1);
  assert.equal(lrs[49], 1);
  assert.equal(lrs[50], 1);
  assert.ok(Math.abs(lrs[60]! - Math.exp(-1)) < 1e-15);
  assert.equal(lrs[99], 0.1);
  // `=`, `;`-free comparisons and `==` inside f; warmup defaults to 0 so f starts at step 0.
  assert.deepEqual([...expandSchedule('expr:total=4,peak=1,f=s == 0 ? 0 : 1/s')], [0, 1, 0.5, 1 / 3]);
  assert.deepEqual([...expandSchedule('expr:total=3,peak=2,f= 2 s + pi - pi ')], [0, 2, 4]);
  // Only s and the keys are free: total and warmup are usable; min/mod/round/log with a base.
  assert.deepEqual([...expandSchedule('expr:total=5,peak=1,f=min(s, 2) + mod(s, 2) * 0 + round(log(8, 2)) - 3')], [0, 1, 2, 2, 2]);
  const parsed = parseSchedule('expr:peak=1,total=10,warmup=2,b=2,a=1,f=a*peak+b*0');
  assert.deepEqual(parsed, { family: 'expr', peak: 1, total: 10, warmup: 2, consts: { a: 1, b: 2 }, f: 'a*peak+b*0' });
});

test('expr: canonical form (fixed key order, f last and as written) round-trips', () => {
  const parsed = parseSchedule(' expr: total=10, final=0.1,peak=1,warmup=0,f=  max(final, peak*(1-s/total)) ');
  assert.equal(formatSchedule(parsed), 'expr:peak=1,total=10,warmup=0,final=0.1,f=max(final, peak*(1-s/total))');
  for (const spec of [EXAMPLE, 'expr:total=1000,peak=3e-4,warmup=10,z=2,y=3e-5,f=y + (peak-y)*max(0, 1-(s-warmup)/(total-warmup))^z']) {
    const p = parseSchedule(spec);
    assert.deepEqual(parseSchedule(formatSchedule(p)), p);
    assert.deepEqual(Array.from(expandSchedule(formatSchedule(p))), Array.from(expandSchedule(spec)));
  }
});

test('expr: bad specs, bad expressions and negative or non-finite lrs are ScheduleErrors naming the key', () => {
  const cases: [string, string][] = [
    ['expr:total=10,peak=1', 'f'],
    ['expr:total=10,peak=1,f=', 'f'],
    ['expr:total=10,peak=1,f=peak*(', 'f'],
    ['expr:total=10,peak=1,f=peak*q', 'f'],
    ['expr:total=10,peak=1,f=sqrt(1,2)', 'f'],
    ['expr:total=10,peak=1,f=3!', 'f'],
    ['expr:total=10,peak=1,f=Infinity', 'f'],
    ['expr:total=10,peak=1,f=true', 'f'],
    ['expr:total=10,peak=1,f=5 cm', 'f'],
    ['expr:total=10,peak=1,f=1 < s < 3', 'f'],
    ['expr:total=10,peak=1,f=' + 's+'.repeat(600) + 's', 'f'],
    ['expr:total=10,f=peak', 'peak'],
    ['expr:peak=1,f=peak', 'total'],
    ['expr:total=10,f=peak,peak=1', 'peak'],
    ['expr:total=10,peak=-1,f=peak', 'peak'],
    ['expr:total=10,peak=1,warmup=10,f=peak', 'warmup'],
    ['expr:total=20000000,peak=1,f=peak', 'total'],
    ['expr:total=10,peak=1,final=abc,f=peak', 'final'],
    ['expr:total=10,peak=1,s=3,f=peak', 's'],
    ['expr:total=10,peak=1,pi=3,f=peak', 'pi'],
    ['expr:total=10,peak=1,cos=3,f=peak', 'cos'],
    ['expr:total=10,peak=1,a=1,a=2,f=peak', 'a'],
    ['expr:total=10,peak=1,2a=1,f=peak', '2a'],
    // Values: negative, NaN, infinite at some step after warmup.
    ['expr:total=10,peak=1,f=1 - s/4', 'f'],
    ['expr:total=10,peak=1,f=sqrt(5 - s)', 'f'],
    ['expr:total=10,peak=1,f=1/(s-3)^2', 'f'],
    ['expr:total=10,peak=1,f=log(s)', 'f'],
  ];
  for (const [spec, key] of cases) {
    assert.throws(() => expandSchedule(spec), (e: unknown) => e instanceof ScheduleError && e.key === key, `${spec.slice(0, 80)} should fail on ${key}`);
  }
  // The value error names the first bad step and its value; warmup steps are never given to f.
  assert.throws(() => expandSchedule('expr:total=10,peak=1,f=1 - s/4'), /lr=-0\.25 at step 5/);
  assert.throws(() => expandSchedule('expr:total=10,peak=1,f=sqrt(5 - s)'), /lr=NaN at step 6/);
  assert.deepEqual(Array.from(expandSchedule('expr:total=4,peak=1,warmup=2,f=1/(s-1)')), [0, 1, 1, 0.5]);
  // Syntax and allowlist are checked at parse time, values at expansion.
  assert.throws(() => parseSchedule('expr:total=10,peak=1,f=peak*q'), (e: unknown) => e instanceof ScheduleError && e.key === 'f' && /"q"/.test(e.message));
  assert.doesNotThrow(() => parseSchedule('expr:total=10,peak=1,f=1 - s/4'));
});

test('expr: escapes from the restricted scope are refused, with no side effects', () => {
  const globalsBefore = Object.getOwnPropertyNames(globalThis).sort();
  const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort();
  const attempts = [
    'import({}, {override: true})',
    'evaluate("1")',
    'parse("1")',
    'compile("1")',
    'createUnit("x")',
    'x=1',
    's=1',
    'g(x)=1',
    'f(x)=peak',
    '[1,2][1]',
    '{a:1}.a',
    '"1"',
    's.constructor',
    'cos.constructor("return process")()',
    'cos["constructor"]',
    'typed("a", {})',
    'config({number: "BigNumber"})',
    'constructor',
    '__proto__',
    'toString',
    'hasOwnProperty("s")',
    'process',
    'globalThis',
    'cos',
    'peak; s',
    'peak\ns',
    '1:3',
    'help(cos)',
    'derivative("s^2", "s")',
    'simplify("s")',
    'unit("5 cm")',
    'matrix([1, 2])',
    'reviver()',
    'chain(1)',
    'format(1)',
    '(cos)(1)',
    'cos(1).constructor',
    'max.name',
    'sqrt.apply(null, [4])',
    '1 to cm',
  ];
  for (const f of attempts) {
    assert.throws(
      () => expandSchedule(`expr:total=10,peak=1,f=${f}`),
      (e: unknown) => e instanceof ScheduleError && e.key === 'f',
      `f=${f} must be refused on key f`,
    );
  }
  // Messages say what is not allowed.
  assert.throws(() => parseSchedule('expr:total=10,peak=1,f=x=1'), /assignment is not allowed/);
  assert.throws(() => parseSchedule('expr:total=10,peak=1,f=g(x)=1'), /function definition is not allowed/);
  assert.throws(() => parseSchedule('expr:total=10,peak=1,f=import({}, {override: true})'), /the function import\(\) is not allowed/);
  assert.throws(() => parseSchedule('expr:total=10,peak=1,f=s.constructor'), /property or index access is not allowed/);
  assert.throws(() => parseSchedule('expr:total=10,peak=1,f="1"'), /a string is not allowed/);
  // Nothing changed: no new globals, Object.prototype untouched, and mathjs still behaves.
  assert.deepEqual(Object.getOwnPropertyNames(globalThis).sort(), globalsBefore);
  assert.deepEqual(Object.getOwnPropertyNames(Object.prototype).sort(), protoBefore);
  assert.deepEqual(Array.from(expandSchedule('expr:total=3,peak=1,f=cos(0) + s')), [1, 2, 3]);
});

test('expr: 1,000,000 steps expand in well under a few seconds', () => {
  parseSchedule(EXAMPLE); // mathjs loaded
  const started = performance.now();
  const lrs = expandSchedule('expr:total=1000000,warmup=2160,peak=3e-4,final=3e-5,f=final + 0.5*(peak-final)*(1+cos(pi*(s-warmup)/(total-warmup)))');
  const ms = performance.now() - started;
  assert.equal(lrs.length, 1_000_000);
  assert.ok(Math.abs(lrs[999_999]! - expandSchedule('cosine:total=1000000,warmup=2160,peak=3e-4,final=3e-5')[999_999]!) < 1e-15);
  assert.ok(ms < 5000, `1M steps took ${ms.toFixed(0)} ms`);
});
