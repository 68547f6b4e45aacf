/**
 * Contracts shared by every resource: path and paging parameters, the problem+json error, the
 * 202 job answer. The route schemas of each resource are in the file named after it; `index.ts`
 * lists the shared (named) schemas that app.ts registers once and the OpenAPI document lists
 * under components.schemas. Response schemas are documentation: routes carry them under
 * `x-response` (see app.ts), so answers are serialized as before (JSON.stringify) and no field
 * is dropped by a serializer.
 */

/**
 * `:id` path parameter: a positive integer written in plain decimal. The pattern applies to the
 * path's text before it is coerced to an integer (app.ts), so `1e1` or `0x1` are 400, not ids 10 and 1.
 */
export const idParams = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer', minimum: 1, pattern: '^[1-9][0-9]{0,15}$' } },
} as const;

/** `?limit&offset` paging of list endpoints. */
export const pageQuery = {
  type: 'object',
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    offset: { type: 'integer', minimum: 0, maximum: 1_000_000_000, default: 0 },
  },
} as const;

/** `?async=1`: answer 202 with a job id instead of waiting. */
export const asyncQuery = {
  type: 'object',
  properties: { async: { type: 'integer', enum: [0, 1], description: '1: answer 202 with a job id at once (default 0: wait for the result).' } },
} as const;

/** An error (RFC 9457): every failure leaves as `application/problem+json`. */
export const Problem = {
  $id: 'Problem',
  type: 'object',
  description: 'A problem (RFC 9457).',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string', examples: ['about:blank'] },
    title: { type: 'string', examples: ['Bad Request'] },
    status: { type: 'integer', examples: [400] },
    detail: { type: 'string', examples: ['loss at step 3000 must be > 0, got -1'] },
    field: { type: 'string', description: 'The request field at fault.', examples: ['points[0].loss'] },
    instance: { type: 'string' },
  },
} as const;

/** A problem answer, for the error statuses of a route's responses. */
export const problem = {
  description: 'A problem (RFC 9457).',
  content: { 'application/problem+json': { schema: { $ref: 'Problem#' } } },
} as const;

/** A JSON answer with a schema. */
export function json<S extends object, D extends string>(description: D, schema: S) {
  return { description, content: { 'application/json': { schema } } } as const;
}

/** 202 `{jobId}` of a request started with `async=1`. */
export const jobAccepted = {
  description: 'Accepted as a job (with `async=1`).',
  headers: { Location: { type: 'string', description: 'The job: /jobs/{id}.' } },
  content: {
    'application/json': { schema: { type: 'object', required: ['jobId'], properties: { jobId: { type: 'integer' } } } },
  },
} as const;

/** A page of a list endpoint. */
export function page<S extends object>(items: S) {
  return {
    type: 'object',
    required: ['items', 'total', 'limit', 'offset'],
    properties: {
      items: { type: 'array', items },
      total: { type: 'integer' },
      limit: { type: 'integer' },
      offset: { type: 'integer' },
    },
  } as const;
}

/** 204: no body. */
export const noContent = { type: 'null', description: 'Deleted.' } as const;
