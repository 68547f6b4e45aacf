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
import { JobRunner } from './jobs/runner.js';
import { projectPath } from './paths.js';
import { buildValidator, parseJsonBody } from './validation.js';
import problemPlugin from './plugins/problem.js';
import { sharedSchemas } from './routes/contracts/index.js';
import { openapiOptions } from './routes/contracts/openapi.js';
import authPlugin from './plugins/auth.js';
import curvesRoutes from './routes/curves.js';
import scheduleRoutes from './routes/schedules.js';
import healthRoutes from './routes/health.js';
import fitRoutes from './routes/fits.js';
import predictRoutes from './routes/predict.js';
import optimizeRoutes from './routes/optimize.js';
import jobRoutes from './routes/jobs.js';
import scheduleExportRoutes from './routes/schedules-export.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The storage (src/store): async repositories of curves, fits, schedules and jobs. */
    store: Store;
    /** The one job runner of fits and schedule searches (src/jobs). */
    jobs: JobRunner;
    /** Every route as registered (method and URL), for checking that every API route is documented. */
    routeTable: { method: string; url: string }[];
  }
}

export const BODY_LIMIT = 64 * 1024 * 1024;

export interface AppOptions {
  dbPath: string;
  /** Load the fixture curves into an empty database. */
  seed?: boolean;
  /** When set, mutating requests need `Authorization: Bearer <token>`. */
  token?: string;
  logger?: FastifyServerOptions['logger'];
}

export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: BODY_LIMIT,
    ajv: { customOptions: { coerceTypes: 'array', removeAdditional: false } },
    // Type coercion for querystring, params and headers only: JSON bodies are validated strictly (src/validation.ts).
    schemaController: { compilersFactory: { buildValidator: buildValidator() } },
  });

  const routeTable: { method: string; url: string }[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routeTable.push({ method, url: route.url });
  });

  const store = openStore(options.dbPath);
  app.decorate('store', store);
  app.addHook('onClose', async () => store.close());
  // Jobs left unfinished by a previous process fail now; the routes' onClose hooks stop this one's.
  const jobs = new JobRunner(store.jobs);
  await jobs.recover('server restarted');
  app.decorate('jobs', jobs);
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
  await app.register(authPlugin, { token: options.token });
  // The API contracts: named schemas once, and the OpenAPI document built from the routes' schemas (dynamic mode).
  for (const schema of sharedSchemas) app.addSchema(schema);
  await app.register(swagger, openapiOptions);
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(healthRoutes);
  await app.register(curvesRoutes);
  await app.register(scheduleRoutes);
  await app.register(fitRoutes);
  await app.register(predictRoutes);
  await app.register(optimizeRoutes);
  await app.register(jobRoutes);
  await app.register(scheduleExportRoutes);

  const dashboardDir = projectPath('public');
  if (existsSync(dashboardDir)) await app.register(fastifyStatic, { root: dashboardDir, prefix: '/', wildcard: false });

  return app;
}
