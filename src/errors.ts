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
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  499: 'Client Closed Request',
  500: 'Internal Server Error',
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
export const notFound = (detail: string, field?: string) => new HttpProblem(404, detail, field);

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
