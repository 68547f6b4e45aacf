/**
 * Every error leaves as `application/problem+json` with status, title, detail and, where a
 * request field is at fault, `field`: our own HttpProblem, a domain not-found (404), schedule grammar errors, fastify's
 * schema validation, body limits (413) and unsupported content types (415), unknown routes.
 */
import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { clip, HttpProblem, NotFoundError, problemBody, quote } from '../errors.js';
import { ScheduleError } from '../schedule/spec.js';

function send(reply: FastifyReply, status: number, detail: string, field?: string, extra?: Record<string, unknown>) {
  return reply
    .code(status)
    .type('application/problem+json')
    .send(problemBody(status, detail, field === undefined ? undefined : clip(field), { instance: clip(reply.request.url), ...extra }));
}

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
    if (error instanceof ScheduleError) {
      return send(reply, 400, `invalid schedule: ${error.message}`, error.key === 'schedule' ? 'schedule' : `schedule.${error.key}`);
    }
    if (error.validation) {
      const field = fieldFromValidation(error);
      return send(reply, 400, validationDetail(error, field), field);
    }
    const status = error.statusCode ?? 500;
    if (status === 415) return send(reply, 415, `unsupported content type ${quote(request.headers['content-type'] ?? '')}: send application/json or text/csv`, 'content-type');
    if (status === 413) return send(reply, 413, `the body is over the limit of ${app.initialConfig.bodyLimit} bytes`, 'body');
    if (status === 400 && error.code?.startsWith('FST_ERR_CTP')) return send(reply, 400, error.message, 'body');
    if (status >= 500) {
      request.log.error(error);
      return send(reply, status, 'internal error: ' + error.message);
    }
    return send(reply, status, error.message);
  });

  app.setNotFoundHandler((request, reply) => send(reply, 404, `no route ${request.method} ${clip(request.url.split('?')[0]!)}`));
});
