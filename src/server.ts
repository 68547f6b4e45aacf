/** Entry point: read the configuration, build the app, listen. */
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { checkStorePath } from './store/index.js';
import { initBackend, backendNotes } from './optimize/backend.js';

const config = loadConfig();

// An unusable database is one clear line and a non-zero exit, not a stack trace or a hang.
try {
  checkStorePath(config.dbPath);
} catch (error) {
  console.error(`lrcast: cannot use the database LRCAST_DB=${config.dbPath}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

let app: Awaited<ReturnType<typeof buildApp>>;
try {
  app = await buildApp({
    dbPath: config.dbPath,
    seed: config.seed,
    token: config.token,
    logger: { level: config.logLevel },
  });
} catch (error) {
  const message = error instanceof Error ? error.message : String(error);
  console.error(`lrcast: failed to start (LRCAST_DB=${config.dbPath}): ${message.split('\n')[0]}`);
  process.exit(1);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    app.log.info(`${signal}: closing`);
    void app.close().then(() => process.exit(0));
  });
}

// Load the optimizer's TensorFlow.js backend now, so the log says which one serves requests.
const backend = await initBackend();
app.log.info({ backend, notes: backendNotes() }, `optimizer backend: ${backend}`);

try {
  await app.listen({ port: config.port, host: config.host });
  app.log.info(`lrcast ready: dashboard http://${config.host}:${config.port}/ , API docs /docs, database ${config.dbPath}`);
} catch (error) {
  app.log.error(error);
  process.exit(1);
}
