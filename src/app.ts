/**
 * Builds the lrcast Fastify instance: store, job runner, cross-cutting plugins (problem details, auth,
 * API docs, dashboard assets) and one route module per resource. `server.ts` listens.
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
import { openStore, type Store } from './store/index.js';
import { seedFixtures } from './fixtures/seed.js';
import type { JobService } from './jobs/service.js';
import { jobServiceFor, type JobsOptions } from './jobs/service-for.js';
import { projectPath } from './paths.js';
import { buildValidator, parseJsonBody } from './validation.js';
import problemPlugin, { problemServerOptions } from './plugins/problem.js';
import { sharedSchemas } from './routes/contracts/index.js';
import { openapiOptions } from './routes/contracts/openapi.js';
import authPlugin from './plugins/auth.js';
import securityPlugin from './plugins/security.js';
import rateLimitPlugin from './plugins/rate-limit.js';
import pressurePlugin from './plugins/pressure.js';
import drainPlugin from './plugins/drain.js';
import metricsPlugin from './plugins/metrics.js';
import requestLogPlugin, { RequestLogController, type RequestLogMode } from './plugins/request-log.js';
import curvesRoutes from './routes/curves.js';
import scheduleRoutes from './routes/schedules.js';
import healthRoutes from './routes/health.js';
import fitRoutes from './routes/fits.js';
import predictRoutes from './routes/predict.js';
import optimizeRoutes from './routes/optimize.js';
import jobRoutes, { fullResult } from './routes/jobs.js';
import scheduleExportRoutes from './routes/schedules-export.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The storage (src/store): async repositories of curves, fits, schedules and jobs. */
    store: Store;
    /** The jobs of fits and schedule searches (src/jobs): run here (SQLite) or through the shared queue (PostgreSQL). */
    jobs: JobService;
    /** Every route as registered (method and URL), for checking that every API route is documented. */
    routeTable: { method: string; url: string }[];
  }
}

export const BODY_LIMIT = 64 * 1024 * 1024;

export interface AppOptions {
  /** The database: a SQLite file path, or a PostgreSQL URL (`postgres://...`, LRCAST_DATABASE_URL). */
  dbPath: string;
  /** This process's part in the jobs on a PostgreSQL store (role all, api or worker; worker settings). */
  jobs?: JobsOptions;
  /** Load the fixture curves into an empty database. */
  seed?: boolean;
  /** When set, mutating requests need `Authorization: Bearer <token>`. */
  token?: string;
  /** When set, reads of the API need `Authorization: Bearer <readToken or token>`. */
  readToken?: string;
  /** Origins allowed by CORS; unset or empty: CORS off. */
  corsOrigins?: string[];
  /** Requests per minute per client on mutating and heavy routes; unset or 0: no limit (tests; the server passes its config). */
  rateLimitPerMinute?: number;
  /** Event-loop delay (ms) above which requests get 503; unset or 0: never. */
  maxEventLoopDelayMs?: number;
  /** Largest database size in bytes (507 beyond it); unset or 0: the disk is the limit. */
  dbMaxBytes?: number;
  /** Which requests get a log line (default `errors`: status 400 and above). */
  requestLog?: RequestLogMode;
  logger?: FastifyServerOptions['logger'];
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    // One line per request, as configured, instead of fastify's two (src/plugins/request-log.ts).
    logController: new RequestLogController(),
    bodyLimit: BODY_LIMIT,
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false } },
    // Type coercion for querystring, params and headers only: JSON bodies are validated strictly (src/validation.ts).
    schemaController: { compilersFactory: { buildValidator: buildValidator() } },
    // Errors answered before any route (long URLs and headers, bad paths) as problem+json too (src/plugins/problem.ts).
    ...problemServerOptions,
    // While closing, new requests get a problem+json 503 from src/plugins/drain.ts instead of fastify's plain one.
    return503OnClosing: false,
  });

  const routeTable: { method: string; url: string }[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routeTable.push({ method, url: route.url });
  });

  const store = await openStore(options.dbPath, { maxBytes: options.dbMaxBytes });
  app.decorate('store', store);
  app.addHook('onClose', async () => store.close());
  // Jobs outlive the process: the routes define their kinds, then (below) those left unfinished run
  // again (SQLite), or this process starts taking the shared queue's jobs (PostgreSQL, by its role).
  let jobs: JobService;
  try {
    jobs = jobServiceFor(store, options.jobs ?? {}, (job) => fullResult(store, job).then((result) => result ?? {}));
  } catch (error) {
    await store.close();
    throw error;
  }
  app.decorate('jobs', jobs);
  // A clean stop stops the running jobs first (they stay queued for the next start), then lets requests finish.
  app.addHook('preClose', async () => jobs.close());
  if (options.seed) {
    const loaded = await seedFixtures(store);
    if (loaded > 0) app.log.info(`loaded ${loaded} demo curves from fixtures/`);
  }

  // Bodies are JSON or CSV: fastify's own text/plain parser goes, so text/plain is a 415 like any other type.
  app.removeContentTypeParser('text/plain');
  // JSON: a `__proto__` key is a 400 naming it (fastify's own parser calls it invalid JSON).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT }, parseJsonBody);
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, body));

  await app.register(problemPlugin);
  await app.register(requestLogPlugin, { mode: options.requestLog ?? 'errors' });
  await app.register(drainPlugin);
  await app.register(pressurePlugin, { maxEventLoopDelayMs: options.maxEventLoopDelayMs });
  await app.register(securityPlugin, { corsOrigins: options.corsOrigins });
  await app.register(authPlugin, { token: options.token, readToken: options.readToken });
  await app.register(rateLimitPlugin, { perMinute: options.rateLimitPerMinute });
  // The API contracts: named schemas once, and the OpenAPI document built from the routes' schemas (dynamic mode).
  for (const schema of sharedSchemas) app.addSchema(schema);
  await app.register(swagger, openapiOptions);
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(metricsPlugin);

  await app.register(healthRoutes);
  await app.register(curvesRoutes);
  await app.register(scheduleRoutes);
  await app.register(fitRoutes);
  await app.register(predictRoutes);
  await app.register(optimizeRoutes);
  await app.register(import('./routes/plan-cooldown.js'));
  await app.register(import('./routes/live.js'));
  await app.register(jobRoutes);
  await app.register(scheduleExportRoutes);
  await app.register(import('./routes/baselines.js'));
  const recovered = await jobs.recover();
  if (recovered.resumed + recovered.failed > 0) {
    app.log.info(recovered, `jobs left unfinished by the previous process: ${recovered.resumed} run again, ${recovered.failed} failed`);
  }

  const dashboardDir = projectPath('public');
  if (existsSync(dashboardDir)) await app.register(fastifyStatic, { root: dashboardDir, prefix: '/', wildcard: false });

  return app;
}
