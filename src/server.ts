/**
 * Entry point: read the configuration, build the app, listen; on SIGTERM or SIGINT, stop cleanly.
 *
 * A clean stop (`app.close()`): new requests are refused (503 on kept-alive connections, see
 * src/plugins/drain.ts), the running jobs stop and stay queued for the next start (src/jobs), open
 * event streams end, the requests in flight finish, then the worker threads are ended and the
 * database closed, and the process exits 0. A second signal, or a stop that takes longer than
 * STOP_LIMIT_MS (src/entry.ts; a very long synchronous search in flight), exits 1 at once: whatever
 * still runs is then recovered at the next start like after a crash.
 */
import { appOrFail, configOrFail, failAs, stopOnSignals } from './entry.js';
import { checkStorePath, describeDatabase } from './store/index.js';
import { initBackend, backendNotes } from './optimize/backend.js';
import { preloadExprParser } from './schedule/expr.js';

const fail = failAs('lrcast');
const config = configOrFail(fail);

// This entry point serves the API (roles all and api); a worker is `npm run worker` (src/worker.ts).
if (config.jobs.role === 'worker') fail('LRCAST_ROLE=worker is for `npm run worker` (src/worker.ts); this entry point serves the API (LRCAST_ROLE=all or api)');

// An unusable database is one clear line and a non-zero exit, not a stack trace or a hang.
try {
  checkStorePath(config.dbPath);
} catch (error) {
  fail(`cannot use the database ${describeDatabase(config.dbPath)}: ${error instanceof Error ? error.message : String(error)}`);
}

// Load the optimizer's TensorFlow.js backend first, so the log says which one serves requests. Before
// the app: loading it holds the event loop for a while, which the app's load shedding would count.
const backend = await initBackend();
// The expr family's parser (mathjs) loads in about a second: now, not inside the first request that uses it.
preloadExprParser();

const app = await appOrFail(fail, {
  dbPath: config.dbPath,
  jobs: config.jobs,
  seed: config.seed,
  token: config.token,
  readToken: config.readToken,
  corsOrigins: config.corsOrigins,
  rateLimitPerMinute: config.rateLimitPerMinute,
  maxEventLoopDelayMs: config.maxEventLoopDelayMs,
  dbMaxBytes: config.dbMaxBytes,
  requestLog: config.requestLog,
  logger: { level: config.logLevel },
});

stopOnSignals(app, 'stopping (requests in flight finish, running jobs stay queued for the next start)');

app.log.info({ backend, notes: backendNotes() }, `optimizer backend: ${backend}`);

try {
  await app.listen({ port: config.port, host: config.host });
  app.log.info(`lrcast ready: dashboard http://${config.host}:${config.port}/ , API docs /docs, ${describeDatabase(config.dbPath)}, role ${config.jobs.role}`);
} catch (error) {
  app.log.error(error);
  process.exit(1);
}
