/**
 * The API contract: openapi.yaml is generated from the route contracts (npm run openapi) and must
 * equal the document the server serves at /docs/json; every API route is documented, with a
 * summary, tags and responses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { projectPath } from '../src/paths.js';
import { MAX_TOTAL_STEPS } from '../src/schedule/spec.js';
import { MAX_STEPS } from '../src/routes/contracts/optimize.js';
import { testApp } from './helpers.js';

type Operation = { summary?: string; tags?: string[]; responses?: Record<string, unknown> };
type Document = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, unknown> } };

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

test('openapi.yaml equals the document the server serves, and documents every API route', async () => {
  const committed = parse(readFileSync(projectPath('openapi.yaml'), 'utf8')) as Document;
  const ctx = await testApp();
  try {
    const res = await ctx.app.inject({ method: 'GET', url: '/docs/json' });
    assert.equal(res.statusCode, 200);
    const served = res.json() as Document;
    assert.deepEqual(committed, served, 'openapi.yaml is stale: run npm run openapi');

    const documented = new Set<string>();
    for (const [path, item] of Object.entries(served.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (!METHODS.includes(method)) continue;
        documented.add(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`);
        const name = `${method.toUpperCase()} ${path}`;
        assert.ok(operation.summary, `${name} has no summary`);
        assert.ok(operation.tags?.length, `${name} has no tags`);
        assert.ok(
          Object.keys(operation.responses ?? {}).some((code) => /^2\d\d$/.test(code)),
          `${name} documents no 2xx response`,
        );
      }
    }
    const built = new Set(
      ctx.app.routeTable
        .filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS')
        .filter((r) => !r.url.startsWith('/docs') && !r.url.includes('*') && !/^\/[\w.-]*\.(html|js|css|svg|ico|png|map)$/.test(r.url) && r.url !== '/')
        .map((r) => `${r.method} ${r.url}`),
    );
    assert.deepEqual([...built].filter((r) => !documented.has(r)), [], 'routes missing from the document');
    assert.deepEqual([...documented].filter((r) => !built.has(r)), [], 'the document names routes that do not exist');

    // Every $ref points at a schema of the document.
    const refs = JSON.stringify(served).match(/"\$ref":"[^"]*"/g) ?? [];
    for (const ref of new Set(refs)) {
      const name = /#\/components\/schemas\/([^"]+)"/.exec(ref)?.[1];
      assert.ok(name && name in served.components.schemas, `dangling ${ref}`);
    }
  } finally {
    await ctx.close();
  }
});

test('the contracts use the service limits', () => {
  assert.equal(MAX_STEPS, MAX_TOTAL_STEPS);
});
