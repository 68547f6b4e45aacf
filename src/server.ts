/**
 * Entry point: read the configuration, build the app, listen; on SIGTERM or SIGINT, stop cleanly.
 *
 * A clean stop (`app.close()`): new requests are refused (503 on kept-alive connections, see
 * src/plugins/drain.ts), the running jobs stop and stay queued for the next start (src/jobs), open
 * event streams end, the requests in flight finish, then the worker threads are ended and the
 * database closed, and the process exits 0. A second signal, or a stop that takes longer than
 * STOP_LIMIT_MS (a very long synchronous search in flight), exits 1 at once: whatever still runs is
 * then recovered at the next start like after a crash.
 */
import { buildApp } from './app.js';
import { loadConfig, type Config } from './config.js';
import { checkStorePath, describeDatabase } from './store/index.js';
import { initBackend, backendNotes } from './optimize/backend.js';
import { preloadExprParser } from './schedule/expr.js';

/** Below the 30 s a supervisor (systemd, Kubernetes) usually waits after SIGTERM before SIGKILL. */
const STOP_LIMIT_MS = 25_000;

/** Print one line and exit 1: a start-up failure is a clear reason, not a stack trace. */
function fail(line: string): never {
  console.error(`lrcast: ${line}`);
  process.exit(1);
}

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  fail(`bad configuration: ${error instanceof Error ? error.message : String(error)}`);
}

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

let app: Awaited<ReturnType<typeof buildApp>>;
try {
  app = await buildApp({
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
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  fail(`failed to start (${describeDatabase(config.dbPath)}): ${message.split('\n')[0]}`);
}

let stopping = false;

/** Close the app (see the top of this file) and exit: 0 once closed, 1 if it fails or takes too long. */
function stop(signal: NodeJS.Signals): void {
  if (stopping) {
    app.log.warn(`${signal} again: exiting without waiting`);
    process.exit(1);
  }
  stopping = true;
  app.log.info(`${signal}: stopping (requests in flight finish, running jobs stay queued for the next start)`);
  setTimeout(() => {
    app.log.error(`still stopping after ${STOP_LIMIT_MS / 1000} s: exiting`);
    process.exit(1);
  }, STOP_LIMIT_MS).unref();
  app.close().then(
    () => {
      app.log.info('stopped');
      process.exit(0);
    },
    (error: unknown) => {
      app.log.error(error, 'stopping failed');
      process.exit(1);
    },
  );
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, stop);

app.log.info({ backend, notes: backendNotes() }, `optimizer backend: ${backend}`);

try {
  await app.listen({ port: config.port, host: config.host });
  app.log.info(`lrcast ready: dashboard http://${config.host}:${config.port}/ , API docs /docs, ${describeDatabase(config.dbPath)}, role ${config.jobs.role}`);
} catch (error) {
  app.log.error(error);
  process.exit(1);
}
