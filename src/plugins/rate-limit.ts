/**
 * Per-client request limits (@fastify/rate-limit) on the routes that write or work hard: every
 * mutating request (POST, PUT, PATCH, DELETE) and routes marked `config: { heavy: true }` (predictions).
 * Reads of stored data stay unlimited. Over the limit: 429 problem+json with Retry-After.
 */
import fp from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpProblem } from '../errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Counted by the rate limit although it is a read (its work grows with the request). */
    heavy?: boolean;
  }
}

export interface RateLimitOptions {
  /** Requests per minute per client address on limited routes; 0 or unset: no limit. */
  perMinute?: number;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function isLimited(request: FastifyRequest): boolean {
  return MUTATING.has(request.method) || request.routeOptions.config?.heavy === true;
}

export default fp<RateLimitOptions>(async function rateLimitPlugin(app: FastifyInstance, opts) {
  const perMinute = opts.perMinute ?? 0;
  if (perMinute <= 0) return;
  await app.register(rateLimit, {
    global: true,
    max: perMinute,
    timeWindow: 60_000,
    // Unlimited routes are left out of the count altogether.
    allowList: (request) => !isLimited(request),
    errorResponseBuilder: (_request, context) =>
      new HttpProblem(429, `over ${context.max} requests per minute on routes that write or compute (LRCAST_RATE_LIMIT); retry in ${context.after}`, undefined, {
        retryAfterSeconds: Math.ceil(context.ttl / 1000),
      }),
  });
});
