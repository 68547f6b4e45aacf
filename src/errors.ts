/**
 * Errors that answer as RFC 9457 problem details (`application/problem+json`).
 * Throw an HttpProblem anywhere below a route; src/plugins/problem.ts renders it.
 */

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  /** The request field that is wrong (e.g. `points[12].loss`, `schedule`, `curveIds`). */
  field?: string;
  instance?: string;
  [extra: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  499: 'Client Closed Request',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  507: 'Insufficient Storage',
};

export class HttpProblem extends Error {
  readonly status: number;
  readonly field: string | undefined;
  readonly extra: Record<string, unknown>;
  constructor(status: number, detail: string, field?: string, extra: Record<string, unknown> = {}) {
    super(detail);
    this.name = 'HttpProblem';
    this.status = status;
    this.field = field;
    this.extra = extra;
  }
}

export const badRequest = (detail: string, field?: string, extra?: Record<string, unknown>) =>
  new HttpProblem(400, detail, field, extra);

/**
 * A domain not-found: the resource a request names does not exist. Not an HTTP error: routes throw
 * it when a repository returns undefined, and src/plugins/problem.ts answers 404 naming `field`.
 */
export class NotFoundError extends Error {
  constructor(
    readonly resource: string,
    readonly id: number,
    /** The request field that carried the id. */
    readonly field = 'id',
  ) {
    super(`no ${resource} with id ${id}`);
    this.name = 'NotFoundError';
  }
}

/** `value`, or NotFoundError for the `resource` with `id` named by request field `field`. */
export function found<T>(value: T | undefined, resource: string, id: number, field = 'id'): T {
  if (value === undefined) throw new NotFoundError(resource, id, field);
  return value;
}

export function problemBody(status: number, detail: string, field?: string, extra: Record<string, unknown> = {}): ProblemBody {
  return {
    type: 'about:blank',
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    ...(field !== undefined ? { field } : {}),
    ...extra,
  };
}

/**
 * A user-given value for an error detail: a string in double quotes (JSON escapes, so `\r` shows),
 * anything else as JSON; at most `max` characters of it, then an ellipsis and the original length,
 * so that a huge input is never echoed whole.
 */
export function quote(value: unknown, max = 200): string {
  if (typeof value !== 'string') return clip(jsonText(value), max);
  const cut = value.length > max ? `… (${value.length} characters)` : '';
  return `${JSON.stringify(value.length <= max ? value : value.slice(0, max))}${cut}`;
}

/** `value` as JSON; a value nested too deeply for JSON.stringify's recursion is named, not echoed (never a 500). */
function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Array.isArray(value) ? '[an array nested too deeply to show]' : '{an object nested too deeply to show}';
  }
}

/** `text` as it is when at most `max` characters long, else its first `max` with an ellipsis and the original length. */
export function clip(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`;
}
