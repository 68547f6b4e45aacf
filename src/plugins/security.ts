/**
 * Headers for a shared network: @fastify/helmet (a Content-Security-Policy the dashboard and the API
 * docs pass, nosniff, frame options) and @fastify/cors, off unless origins are configured
 * (`LRCAST_CORS_ORIGINS`): without it a browser page from another origin cannot read the API.
 */
import fp from 'fastify-plugin';
import helmet from '@fastify/helmet';
import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

export interface SecurityOptions {
  /** Origins allowed to call the API from a browser (`*` for any); empty or unset: CORS off. */
  corsOrigins?: string[];
}

export default fp<SecurityOptions>(async function securityPlugin(app: FastifyInstance, opts) {
  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        // Everything from this origin only: the dashboard is one bundled script and stylesheet.
        'default-src': ["'self'"],
        'script-src': ["'self'"],
        'style-src': ["'self'", "'unsafe-inline'"],
        'img-src': ["'self'", 'data:'],
        'connect-src': ["'self'"],
        'frame-ancestors': ["'none'"],
        // The service usually speaks plain HTTP on a loopback or private address: no forced upgrade.
        'upgrade-insecure-requests': null,
      },
    },
    frameguard: { action: 'deny' },
  });
  const origins = opts.corsOrigins ?? [];
  if (origins.length > 0) {
    await app.register(cors, {
      origin: origins.includes('*') ? '*' : origins,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type'],
      maxAge: 600,
    });
  }
});
