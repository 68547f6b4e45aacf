/**
 * Bearer tokens. `LRCAST_TOKEN` (write token): every mutating request (anything but GET, HEAD,
 * OPTIONS) needs `Authorization: Bearer <token>`, else 401. `LRCAST_READ_TOKEN` (optional): the API's
 * reads need the read token or the write token too; the service's open surface stays open (routes
 * marked `config: { open: true }`, such as /health, the dashboard's files and the API docs, which
 * carry no data). With only a read token set, it guards writes as well.
 *
 * Tokens are compared as SHA-256 digests with timingSafeEqual, so neither the token's content nor
 * its length shows in the response time.
 */
import fp from 'fastify-plugin';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpProblem } from '../errors.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface AuthOptions {
  /** Needed by mutating requests (and accepted for reads). */
  token?: string;
  /** Needed by reads of the API when set. */
  readToken?: string;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Reachable without a read token (no data behind it): health, dashboard assets, API docs. */
    open?: boolean;
    /** A read although its method is not GET (POST /predict: parameters too long for a URL); needs the read token only. */
    read?: boolean;
  }
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Whether `given` equals one of `accepted`, in time independent of both (every candidate is compared). */
function matchesAny(given: string, accepted: Buffer[]): boolean {
  const mine = digest(given);
  let ok = false;
  for (const candidate of accepted) ok = timingSafeEqual(mine, candidate) || ok;
  return ok;
}

/** A route that needs no read token: marked open, documentation-only (hidden schema) or not an API route at all. */
function isOpenRead(request: FastifyRequest): boolean {
  const route = request.routeOptions;
  if (route.config?.open) return true;
  const schema = route.schema as { hide?: boolean } | undefined;
  return schema === undefined || schema.hide === true;
}

export default fp<AuthOptions>(async function authPlugin(app: FastifyInstance, opts) {
  const writeTokens = [opts.token ?? opts.readToken].filter((t): t is string => !!t).map(digest);
  const readTokens = opts.readToken ? [opts.readToken, opts.token].filter((t): t is string => !!t).map(digest) : [];
  if (writeTokens.length === 0 && readTokens.length === 0) return;
  app.addHook('onRequest', async (request, reply) => {
    const isRead = SAFE_METHODS.has(request.method) || request.routeOptions.config?.read === true;
    const accepted = isRead ? (isOpenRead(request) ? [] : readTokens) : writeTokens;
    if (accepted.length === 0) return;
    const match = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '');
    if (!match || !matchesAny(match[1]!.trim(), accepted)) {
      reply.header('www-authenticate', 'Bearer');
      const what = isRead ? 'reads of the API need' : 'this request needs';
      throw new HttpProblem(401, match ? 'the bearer token is wrong' : `${what} Authorization: Bearer <token>`, 'authorization');
    }
  });
});
