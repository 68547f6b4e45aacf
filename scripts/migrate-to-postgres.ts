/**
 * `npm run migrate-to-postgres -- --from data/lrcast.sqlite [--to postgres://...]`: copy a SQLite
 * database into an empty PostgreSQL database (default: LRCAST_DATABASE_URL), verifying row counts
 * and the checksums of the point data (src/store/copy-to-postgres.ts). Exits 1 with one line saying
 * why when it cannot (a non-empty target copies nothing).
 */
import { parseArgs } from 'node:util';
import { copySqliteToPostgres } from '../src/store/copy-to-postgres.js';
import { describeDatabase, isDatabaseUrl } from '../src/store/index.js';

function fail(line: string): never {
  console.error(`migrate-to-postgres: ${line}`);
  process.exit(1);
}

let values: { from?: string; to?: string };
try {
  ({ values } = parseArgs({ options: { from: { type: 'string' }, to: { type: 'string' } } }));
} catch (error) {
  fail((error as Error).message);
}
const from = values.from ?? fail('give the SQLite database: --from data/lrcast.sqlite');
const to = values.to ?? process.env.LRCAST_DATABASE_URL ?? fail('give the PostgreSQL database: --to postgres://... or LRCAST_DATABASE_URL');
if (!isDatabaseUrl(to)) fail(`${to} is not a postgres:// or postgresql:// URL`);

try {
  console.log(`copying ${from} into ${describeDatabase(to)}`);
  const report = await copySqliteToPostgres(from, to, (line) => console.log(`  ${line}`));
  console.log(`done: ${JSON.stringify(report)}`);
} catch (error) {
  fail((error as Error).message.split('\n')[0]!);
}
