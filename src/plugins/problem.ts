/**
 * Every error leaves as `application/problem+json` with status, title, detail and, where a
 * request field is at fault, `field`: our own HttpProblem, a domain not-found (404), schedule grammar errors, fastify's
 * schema validation, body limits (413) and unsupported content types (415), unknown routes; and the
 * errors fastify and Node answer before any route runs (`problemServerOptions`, passed to Fastify()):
 * a bad URL (400), a path parameter over the router's limit (414), request line and headers over
 * MAX_HEADER_BYTES (431), a request that is not HTTP (400) or too slow (408).
 */
import fp from 'fastify-plugin';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { ConnectionError, FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clip, HttpProblem, NotFoundError, problemBody, quote } from '../errors.js';
import { ScheduleError } from '../schedule/spec.js';
import { withoutServerPaths } from '../paths.js';
import { StorageFullError } from '../store/index.js';

/**
 * Largest request line plus headers (Node's maxHeaderSize, default 16 KiB): a 1000-knot piecewise
 * spec in a query string takes about 35 KB, and 100 KB of query still gets an answer from its route.
 * Longer specs go in the body of POST /predict.
 */
export const MAX_HEADER_BYTES = 128 * 1024;
/** The router's limit on one path parameter (fastify's default): ids take at most 16 digits. */
export const MAX_PARAM_LENGTH = 100;
/** How long a connection refused before its request was read may go on sending (read and dropped) before it is closed. */
const DRAIN_MS = 5_000;

function send(reply: FastifyReply, status: number, detail: string, field?: string, extra?: Record<string, unknown>) {
  return reply
    .code(status)
    .type('application/problem+json')
    .send(problemBody(status, detail, field === undefined ? undefined : clip(field), { instance: clip(reply.request.url), ...extra }));
}

/** fastify's errors before routing (`frameworkErrors`): the URL, not a route, is at fault. */
function answerFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const path = clip(request.url.split('?')[0]!, 120);
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    const detail = `a path parameter of ${path} is over the limit of ${MAX_PARAM_LENGTH} characters (ids are decimal integers of at most 16 digits)`;
    return send(reply, 414, detail, 'url', { title: STATUS_CODES[414] });
  }
  if (error.code === 'FST_ERR_BAD_URL') return send(reply, 400, `the URL path ${path} is not valid (a bad percent-encoding?)`, 'url');
  return sendInternal(reply, 500, error);
}

/** A server fault: logged whole, answered without the server's file paths (a stack or an fs error may name them). */
function sendInternal(reply: FastifyReply, status: number, error: Error) {
  reply.request.log.error(error);
  return send(reply, status, `internal error: ${withoutServerPaths(error.message)}`);
}

/** The status and detail of a connection's error before any request was parsed (Node's parser, its timeouts). */
function clientErrorProblem(error: ConnectionError): [number, string] {
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return [431, `the request line and headers are over the limit of ${MAX_HEADER_BYTES / 1024} KiB (a long query string counts): send a long schedule spec in the JSON body of POST /predict instead`];
  }
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return [408, 'the request did not arrive in time'];
  return [400, `the request is not valid HTTP/1.1 (${clip(error.code ?? error.message, 60)})`];
}

/** Connections already answered: Node reports every later chunk of a broken request again. */
const answered = new WeakSet<Socket>();

/**
 * `clientErrorHandler`: Node found the request unreadable (e.g. over MAX_HEADER_BYTES). The problem
 * is written on the socket, which is then half-closed and read to the end (at most DRAIN_MS), so
 * that a client still sending a long request gets the answer instead of a connection reset.
 */
function answerClientError(error: ConnectionError, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed || answered.has(socket)) return;
  answered.add(socket);
  // As Node's own answer does: nothing is written into a response already under way on this connection.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const [status, detail] = clientErrorProblem(error);
    const title = STATUS_CODES[status]!;
    const body = JSON.stringify(problemBody(status, detail, undefined, { title }));
    socket.write(`HTTP/1.1 ${status} ${title}\r\nContent-Type: application/problem+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.end();
  socket.resume();
  setTimeout(() => socket.destroy(), DRAIN_MS).unref();
}

/** Fastify's options for the errors answered before any route (app.ts spreads them into Fastify({...})). */
export const problemServerOptions = {
  http: { maxHeaderSize: MAX_HEADER_BYTES },
  routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
  frameworkErrors: answerFrameworkError,
  clientErrorHandler: answerClientError,
};

/**
 * `/points/3/loss` -> `points[3].loss`; adds the missing or unknown property's name when ajv reports
 * one; falls back to the part of the request (`body`, `querystring`, ...) when the whole of it is wrong.
 */
function fieldFromValidation(error: FastifyError): string | undefined {
  const first = error.validation?.[0];
  if (!first) return undefined;
  const path = first.instancePath
    .split('/')
    .filter(Boolean)
    .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join('');
  const { missingProperty, additionalProperty } = first.params as { missingProperty?: string; additionalProperty?: string };
  const property = missingProperty ?? additionalProperty;
  const name = property ? (path ? `${path}.${property}` : property) : path;
  return name || error.validationContext || undefined;
}

/** ajv's message, naming the unknown property (ajv's own text does not). */
function validationDetail(error: FastifyError, field: string | undefined): string {
  const first = error.validation?.[0];
  const unknown = (first?.params as { additionalProperty?: string } | undefined)?.additionalProperty;
  return unknown !== undefined && field ? `${error.message}: unknown property ${quote(field)}` : error.message;
}

export default fp(async function problemPlugin(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof HttpProblem) return send(reply, error.status, error.message, error.field, error.extra);
    if (error instanceof NotFoundError) return send(reply, 404, error.message, error.field);
    if (error instanceof StorageFullError) return send(reply, 507, error.message);
    if (error instanceof ScheduleError) {
      return send(reply, 400, `invalid schedule: ${error.message}`, error.key === 'schedule' ? 'schedule' : `schedule.${error.key}`);
    }
    if (error.validation) {
      const field = fieldFromValidation(error);
      return send(reply, 400, validationDetail(error, field), field);
    }
    const status = error.statusCode ?? 500;
    if (status === 415) return send(reply, 415, `unsupported content type ${quote(request.headers['content-type'] ?? '')}: send application/json or text/csv`, 'content-type');
    if (status === 413) return send(reply, 413, `the body is over the limit of ${request.routeOptions.bodyLimit ?? app.initialConfig.bodyLimit} bytes`, 'body');
    if (status === 400 && error.code?.startsWith('FST_ERR_CTP')) return send(reply, 400, error.message, 'body');
    if (status >= 500) return sendInternal(reply, status, error);
    return send(reply, status, error.message);
  });

  app.setNotFoundHandler((request, reply) => send(reply, 404, `no route ${request.method} ${clip(request.url.split('?')[0]!)}`));
});
