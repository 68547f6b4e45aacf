/** Entry point: read the configuration, build the app, listen. */
import { buildApp } from './app.js';
import { loadConfig } from './config.js';
import { initBackend, backendNotes } from './optimize/backend.js';

const config = loadConfig();
const app = await buildApp({
  dbPath: config.dbPath,
  seed: config.seed,
  token: config.token,
  logger: { level: config.logLevel },
});

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
