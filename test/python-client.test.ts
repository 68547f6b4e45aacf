/**
 * The Python client (clients/python/lrcast.py) against the real server: the app listening on a free
 * port with the demo curves, then `python3 clients/python/test_lrcast.py` with LRCAST_URL. Skips
 * only where python3 is missing (Debian's python3 is on CI; the test needs no torch).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { projectPath } from '../src/paths.js';
import { testApp } from './helpers.js';

const hasPython = spawnSync('python3', ['--version']).status === 0;

test('the Python client passes its tests against a running server', { skip: hasPython ? false : 'python3 is not installed', timeout: 180_000 }, async () => {
  const ctx = await testApp({ seed: true });
  try {
    await ctx.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = ctx.app.server.address() as { port: number };
    const child = spawn('python3', [projectPath('clients', 'python', 'test_lrcast.py')], {
      env: { ...process.env, LRCAST_URL: `http://127.0.0.1:${port}`, PYTHONDONTWRITEBYTECODE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, output);
    assert.doesNotMatch(output, /skipped/i, output);
  } finally {
    await ctx.close();
  }
});
