/**
 * The OpenAPI document's frame (info, servers, tags, security, components other than the named
 * schemas) and how @fastify/swagger builds it from the routes (dynamic mode): the routes' contracts
 * carry their response schemas under `x-response` and the documented-only body of POST /curves
 * under `x-body` (so fastify neither serializes answers through them nor validates that body);
 * `transform` puts them where the document wants them. `npm run openapi` writes the result to
 * openapi.yaml.
 */
import type { SwaggerOptions } from '@fastify/swagger';

const description = [
  "lrcast stores training loss curves with their learning-rate schedules in SQLite, fits",
  "empirical laws (the multi-power law `mpl`, the LR-annealing law `lra`) that predict the",
  "whole loss curve from the schedule, predicts the loss of any schedule, and searches for",
  "the schedule with the lowest predicted final loss.",
  "",
  "**Errors** are `application/problem+json` (RFC 9457) with `status`, `title`, `detail` and,",
  "where a request field is at fault, `field` (e.g. `points[12].loss`, `schedule.decayStart`).",
  "",
  "**Authentication**: when the server runs with `LRCAST_TOKEN`, every request other than",
  "GET/HEAD/OPTIONS needs `Authorization: Bearer <token>`, else 401.",
  "",
  "**Schedule specs** (`family:key=value,...`), per-step lr for steps `0 .. total-1`. Warmup is",
  "linear from 0: `lr[s] = peak * s / (warmup - 1)` for `s < warmup` (`warmup` defaults to 0).",
  "- `constant:peak=,total=,warmup=`",
  "- `cosine:peak=,total=,warmup=,final=` (final default 0)",
  "- `linear:peak=,total=,warmup=,final=` (linear from the end of warmup to `final` at `total-1`)",
  "- `wsd:peak=,total=,warmup=,decayStart=,final=,shape=exp|linear|cosine|sqrt` (shape default exp; exp needs final > 0)",
  "- `step:peak=,total=,warmup=,at=s1;s2,to=v1;v2` (lr becomes v_i from step s_i on)",
  "- `piecewise:0=v0;s1=v1;...` (linear interpolation between knots; first knot at 0; total = last knot + 1)",
  "- `expr:total=,warmup=,peak=,NAME=NUMBER,...,f=EXPR` (user-defined: the lr is `f` at every step",
  "  `s >= warmup`, after the usual warmup; total and peak required. Other numeric keys are named",
  "  constants usable in f. `f` must be the last key and takes the rest of the spec verbatim, commas",
  "  included. f is parsed with mathjs and restricted to numbers, `s`, the spec's keys, `pi`, `e`,",
  "  `+ - * / ^ %`, comparisons, `and`/`or`/`not`, `a ? b : c` and the math functions abs, sqrt,",
  "  cbrt, exp, expm1, log, log10, log2, log1p, sin, cos, tan, asin, acos, atan, atan2, sinh, cosh,",
  "  tanh, min, max, pow, mod, floor, ceil, round, sign; anything else, and a negative or non-finite",
  "  lr at any step, is a 400 with field `schedule.f`. Example:",
  "  `expr:total=24000,warmup=2160,peak=3e-4,f=peak*(1-(s-warmup)/(total-warmup))^2`; percent-encode it in URLs.)",
  "",
  "At most 10,000,000 steps.",
  "",
].join('\n');

export const openapiOptions: SwaggerOptions = {
  mode: 'dynamic',
  openapi: {
    openapi: '3.1.0',
    info: {
      title: 'lrcast',
      version: '0.1.0',
      summary: 'Loss-curve prediction and learning-rate schedule optimizer.',
      description,
    },
    servers: [{ url: 'http://127.0.0.1:8080' }],
    tags: [
      { name: 'curves' },
      { name: 'schedules' },
      { name: 'fits' },
      { name: 'predict' },
      { name: 'optimize' },
      { name: 'jobs' },
      { name: 'service' },
    ],
    security: [{}, { bearer: [] }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  },
  // Named schemas keep their names: `$ref: 'Fit#'` becomes `#/components/schemas/Fit`.
  refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  transform: ({ schema, url }) => {
    if (!schema) return { schema, url };
    const { 'x-response': response, 'x-body': body, ...rest } = schema as Record<string, unknown>;
    return { schema: { ...rest, ...(body ? { body } : {}), ...(response ? { response } : {}) }, url };
  },
};
