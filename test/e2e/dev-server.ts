/**
 * Dashboard dev server: the real app on a temp database with the demo curves, plus the
 * mock routes (mock-api.ts) for whatever API is not there yet.
 * `node --import tsx test/e2e/dev-server.ts [port]` and `node scripts/build-dashboard.mjs --watch`.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/app.js';
import mockApi from './mock-api.js';

const dir = mkdtempSync(join(tmpdir(), 'lrcast-dev-'));
const app = await buildApp({ dbPath: join(dir, 'lrcast.sqlite'), seed: true });
await app.register(mockApi);
const address = await app.listen({ port: Number(process.argv[2] ?? 5180), host: '127.0.0.1' });
console.log(`dashboard dev server on ${address} (db in ${dir})`);
