/**
 * Load shedding (@fastify/under-pressure): while the event loop lags more than the configured delay
 * (`LRCAST_MAX_EVENT_LOOP_DELAY_MS`), requests get 503 problem+json with Retry-After instead of queueing
 * behind the lag. Heavy work runs on worker threads, so this is the last line, not the usual path.
 */
import fp from 'fastify-plugin';
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import { problemBody } from '../errors.js';

export interface PressureOptions {
  /** Event-loop delay in ms above which requests are refused; 0 or unset: never. */
  maxEventLoopDelayMs?: number;
}

/** Seconds a refused client is asked to wait. */
const RETRY_AFTER_SECONDS = 5;

export default fp<PressureOptions>(async function pressurePlugin(app: FastifyInstance, opts) {
  const maxEventLoopDelay = opts.maxEventLoopDelayMs ?? 0;
  if (maxEventLoopDelay <= 0) return;
  await app.register(underPressure, {
    maxEventLoopDelay,
    retryAfter: RETRY_AFTER_SECONDS,
    pressureHandler: (request, reply, type, value) => {
      reply
        .code(503)
        .header('retry-after', String(RETRY_AFTER_SECONDS))
        .type('application/problem+json')
        .send(problemBody(503, `the service is overloaded (${type} at ${Math.round(Number(value))}); retry in ${RETRY_AFTER_SECONDS} s`, undefined, { instance: request.url.split('?')[0] }));
    },
  });
});
