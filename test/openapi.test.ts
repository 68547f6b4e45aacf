/** openapi.yaml is the contract: every API route it names exists, and every API route is in it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { projectPath } from '../src/paths.js';
import { testApp } from './helpers.js';

test('openapi.yaml and the registered routes agree', async () => {
  const spec = parse(readFileSync(projectPath('openapi.yaml'), 'utf8')) as { paths: Record<string, Record<string, unknown>> };
  const documented = new Set<string>();
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const method of Object.keys(item)) {
      if (['get', 'post', 'put', 'patch', 'delete'].includes(method)) documented.add(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`);
    }
  }
  const ctx = await testApp();
  try {
    const built = new Set(
      ctx.app.routeTable
        .filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS')
        .filter((r) => !r.url.startsWith('/docs') && !r.url.includes('*') && !/^\/[\w.-]*\.(html|js|css|svg|ico|png|map)$/.test(r.url) && r.url !== '/')
        .map((r) => `${r.method} ${r.url}`),
    );
    const undocumented = [...built].filter((r) => !documented.has(r));
    const missing = [...documented].filter((r) => !built.has(r));
    assert.deepEqual(undocumented, [], 'routes missing from openapi.yaml');
    assert.deepEqual(missing, [], 'openapi.yaml names routes that do not exist');
  } finally {
    await ctx.close();
  }
});
