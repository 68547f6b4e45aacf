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
import { appOrFail, configOrFail, failAs, stopOnSignals } from './entry.js';
import { describeDatabase, isDatabaseUrl } from './store/index.js';
import { initBackend } from './optimize/backend.js';
import { preloadExprParser } from './schedule/expr.js';

const fail = failAs('lrcast worker');
const config = configOrFail(fail);
if (!isDatabaseUrl(config.dbPath)) fail('a worker needs the shared database: set LRCAST_DATABASE_URL=postgres://... (on SQLite, `npm start` runs the jobs itself)');
if (config.jobs.role === 'api') fail('LRCAST_ROLE=api serves the API only: a worker takes jobs (unset LRCAST_ROLE, or set it to worker)');

const backend = await initBackend();
preloadExprParser();

const app = await appOrFail(fail, {
  dbPath: config.dbPath,
  jobs: { ...config.jobs, role: 'worker' },
  seed: false,
  logger: { level: config.logLevel },
});

stopOnSignals(app, 'stopping (running jobs go back to the queue)');

const kinds = config.jobs.kinds?.join(', ') ?? app.jobs.definedKinds().join(', ');
app.log.info(`lrcast worker ready: jobs ${kinds}, ${config.jobs.concurrency ?? 'default'} at once per kind, ${describeDatabase(config.dbPath)}, optimizer backend ${backend}`);
