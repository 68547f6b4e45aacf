/**
 * A graceful close: `app.close()` (SIGTERM in src/server.ts) stops taking requests and waits for
 * the ones in flight, but Node's `server.close()` also waits for every keep-alive connection to go
 * idle and time out (fastify's keepAliveTimeout, 72 s), and it reaps idle ones only once, when it
 * is called. So while closing, answers carry `Connection: close`, and connections that become idle
 * afterwards (an answer just sent, an event stream ended) are closed every 100 ms, until the server
 * has closed. New requests on a kept-alive connection get 503 problem+json with Retry-After (fastify's
 * own plain-JSON 503, return503OnClosing, is switched off in src/app.ts for this).
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { HttpProblem } from '../errors.js';

const REAP_IDLE_MS = 100;

export default fp(async function drainPlugin(app: FastifyInstance) {
  let draining = false;
  let reaper: NodeJS.Timeout | undefined;
  app.addHook('preClose', async () => {
    draining = true;
    if (!app.server.listening) return;
    reaper = setInterval(() => app.server.closeIdleConnections(), REAP_IDLE_MS);
    reaper.unref();
    app.server.once('close', () => clearInterval(reaper));
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (!draining) return;
    reply.header('retry-after', '5');
    throw new HttpProblem(503, 'the server is shutting down: retry in a few seconds (on this or another instance)');
  });
  app.addHook('onSend', async (_request, reply) => {
    if (draining) reply.header('connection', 'close');
  });
  app.addHook('onClose', async () => clearInterval(reaper));
});
