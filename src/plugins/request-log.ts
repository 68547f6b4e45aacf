/**
 * One log line per answered request, as configured (LRCAST_REQUEST_LOG): `all`, `errors` (status 400
 * and above: the default, see README "Configuration") or `off`. It replaces fastify's own request
 * logging, two lines per request ("incoming request", "request completed"), which
 * `RequestLogController` (app.ts's `logController`; fastify 5's successor of `disableRequestLogging`)
 * leaves out while keeping fastify's other lines (a response that failed midway, 503s while closing).
 * The line is at `info`, with method, url, route (the URL pattern), statusCode and responseTime (ms).
 * Server errors (5xx) are also logged with their stack by the problem plugin.
 */
import fp from 'fastify-plugin';
import { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

export const REQUEST_LOG_MODES = ['all', 'errors', 'off'] as const;
export type RequestLogMode = (typeof REQUEST_LOG_MODES)[number];

/** Fastify's internal log lines without its two per request: this plugin writes the one configured. */
export class RequestLogController extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply, metadata?: Record<string, unknown>): void {
    if (error) super.requestCompleted(error, request, reply, metadata);
  }
}

export default fp<{ mode: RequestLogMode }>(async function requestLogPlugin(app: FastifyInstance, { mode }) {
  if (mode === 'off') return;
  app.addHook('onResponse', async (request, reply) => {
    if (mode === 'errors' && reply.statusCode < 400) return;
    const responseTime = Math.round(reply.elapsedTime * 10) / 10;
    request.log.info({ method: request.method, url: request.url, route: request.routeOptions.url, statusCode: reply.statusCode, responseTime }, 'request');
  });
});
