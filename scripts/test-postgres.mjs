// The PostgreSQL pass of `npm test`: the API test files again, each app on a fresh schema of the
// server at LRCAST_TEST_DATABASE_URL (test/helpers.ts), so both engines answer the API the same way.
// Without a reachable server it is skipped, saying so (.ci/run starts one: scripts/pg-local.sh).
import { spawnSync } from 'node:child_process';
import pg from 'pg';

/** The API test files (not the math, property or browser ones): what both engines must answer alike. */
const API_FILES = [
  'test/curves-api.test.ts',
  'test/fit-api.test.ts',
  'test/interval-api.test.ts',
  'test/optimize-api.test.ts',
  'test/live.test.ts',
  'test/hostile.test.ts',
  'test/metrics.test.ts',
  'test/cooldown.test.ts',
  'test/optimize-interval.test.ts',
  'test/baselines-api.test.ts',
  'test/schedules-list.test.ts',
];

const url = process.env.LRCAST_TEST_DATABASE_URL;
if (!url) {
  console.log('\n# PostgreSQL pass SKIPPED: LRCAST_TEST_DATABASE_URL is not set (scripts/pg-local.sh start DIR prints one; .ci/run sets it)\n');
  process.exit(0);
}
const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
try {
  await client.connect();
  await client.end();
} catch (error) {
  console.log(`\n# PostgreSQL pass SKIPPED: no server reachable at LRCAST_TEST_DATABASE_URL (${error.message})\n`);
  process.exit(0);
}
console.log(`\n# PostgreSQL pass: ${API_FILES.length} API test files on ${url.replace(/:[^:@/]*@/, ':***@')}\n`);
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', ...API_FILES], {
  stdio: 'inherit',
  env: { ...process.env, LRCAST_TEST_ENGINE: 'postgres' },
});
process.exit(run.status ?? 1);
