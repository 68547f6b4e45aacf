/**
 * Entry point of a worker (`npm run worker`): takes fits and schedule searches from the durable
 * queue of a PostgreSQL database (LRCAST_DATABASE_URL) and runs them on this machine, as many at once
 * as LRCAST_WORKER_CONCURRENCY says and only the kinds of LRCAST_WORKER_KINDS (e.g. `optimize` on
 * a GPU machine). It serves no HTTP: it builds the same app (the job kinds are defined by their
 * routes) without listening. Progress and results go to the database, where any API instance reads
 * and streams them.
 *
 * SIGTERM or SIGINT stops it cleanly: the running jobs stop and go back to the queue (their start
 * given back) for another worker. A worker killed outright (SIGKILL, a crash, a lost machine) stops
 * renewing its jobs' heartbeats: the other processes hand them to another worker after
 * LRCAST_JOB_STALE_SECONDS (see src/jobs/queued-runner.ts).
 */
import { buildApp } from './app.js';
import { loadConfig, type Config } from './config.js';
import { describeDatabase, isDatabaseUrl } from './store/index.js';
import { initBackend } from './optimize/backend.js';
import { preloadExprParser } from './schedule/expr.js';

const STOP_LIMIT_MS = 25_000;

function fail(line: string): never {
  console.error(`lrcast worker: ${line}`);
  process.exit(1);
}

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  fail(`bad configuration: ${error instanceof Error ? error.message : String(error)}`);
}
if (!isDatabaseUrl(config.dbPath)) fail('a worker needs the shared database: set LRCAST_DATABASE_URL=postgres://... (on SQLite, `npm start` runs the jobs itself)');
if (config.jobs.role === 'api') fail('LRCAST_ROLE=api serves the API only: a worker takes jobs (unset LRCAST_ROLE, or set it to worker)');

const backend = await initBackend();
preloadExprParser();

let app: Awaited<ReturnType<typeof buildApp>>;
try {
  app = await buildApp({
    dbPath: config.dbPath,
    jobs: { ...config.jobs, role: 'worker' },
    seed: false,
    logger: { level: config.logLevel },
  });
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  fail(`failed to start (${describeDatabase(config.dbPath)}): ${message.split('\n')[0]}`);
}

let stopping = false;
function stop(signal: NodeJS.Signals): void {
  if (stopping) process.exit(1);
  stopping = true;
  app.log.info(`${signal}: stopping (running jobs go back to the queue)`);
  setTimeout(() => process.exit(1), STOP_LIMIT_MS).unref();
  app.close().then(
    () => process.exit(0),
    (error: unknown) => {
      app.log.error(error, 'stopping failed');
      process.exit(1);
    },
  );
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, stop);

const kinds = config.jobs.kinds?.join(', ') ?? app.jobs.definedKinds().join(', ');
app.log.info(`lrcast worker ready: jobs ${kinds}, ${config.jobs.concurrency ?? 'default'} at once per kind, ${describeDatabase(config.dbPath)}, optimizer backend ${backend}`);
