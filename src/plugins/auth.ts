/**
 * Bearer-token guard: when LRCAST_TOKEN is set, every mutating request (anything but GET,
 * HEAD, OPTIONS) needs `Authorization: Bearer <token>`, else 401. Reads stay open.
 */
import fp from 'fastify-plugin';
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { HttpProblem } from '../errors.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export default fp<{ token?: string }>(async function authPlugin(app: FastifyInstance, opts) {
  const token = opts.token;
  if (!token) return;
  app.addHook('onRequest', async (request, reply) => {
    if (SAFE_METHODS.has(request.method)) return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match || !sameToken(match[1]!.trim(), token)) {
      reply.header('www-authenticate', 'Bearer');
      throw new HttpProblem(401, match ? 'the bearer token is wrong' : 'this request needs Authorization: Bearer <token>', 'authorization');
    }
  });
});
