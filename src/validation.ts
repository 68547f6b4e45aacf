/**
 * Request validation and JSON bodies, as app.ts configures them.
 *
 * Validators: one ajv (via fastify's own @fastify/ajv-compiler, same options) coerces types for the
 * parts of a request that are text (querystring, path params, headers); the body's has no type
 * coercion, so `"1"` is not the number 1 in a JSON body. A path/query property typed as a number
 * with a `pattern` has its pattern checked against its text before coercion (ajv would coerce `1e1`
 * to 10 first and never check it); one typed as an integer without a pattern of its own must be
 * written in decimal digits (INTEGER_TEXT), so `0x10`, `1e1`, `1.0` or ` 1` are not integers; and a
 * number's text beyond float64 (hundreds of digits, `1e400`) is a 400, as in a JSON body, where ajv
 * would coerce it to Infinity and let it through.
 *
 * JSON bodies: parsed with JSON.parse; a `__proto__` key (or `constructor.prototype`) anywhere is
 * a 400 that names it, not "not valid JSON"; so is a number beyond float64 (`1e309`, which
 * JSON.parse makes Infinity, stored as null) and a string or key holding a lone UTF-16 surrogate
 * (`"\ud800"`, not Unicode text: SQLite would store it as U+FFFD).
 */
import AjvCompiler from '@fastify/ajv-compiler';
import { errorCodes } from 'fastify';
import { badRequest, clip } from './errors.js';

interface RouteSchema {
  schema: any;
  method: string;
  url: string;
  httpPart?: string;
}
type Validate = ((data: any, ...rest: any[]) => any) & { errors?: unknown };

/** The `schemaController.compilersFactory.buildValidator` of the app: strict bodies, coerced text parts. */
export function buildValidator(): ReturnType<typeof AjvCompiler> {
  const fromPool = AjvCompiler();
  const factory = (externalSchemas: any, options: any) => {
    const coercing = fromPool(externalSchemas, options);
    const strict = fromPool(externalSchemas, { ...options, customOptions: { ...options?.customOptions, coerceTypes: false } });
    return (route: RouteSchema) => {
      if (route.httpPart === 'body') return strict(route as any);
      const checks = textPatterns(route.schema);
      if (checks.length === 0) return coercing(route as any);
      // ajv gets the schema without those patterns (a pattern on a number means nothing to it).
      const properties = { ...route.schema.properties };
      for (const { name } of checks) {
        const { pattern: _pattern, ...rest } = properties[name];
        properties[name] = rest;
      }
      return withTextPatterns(checks, coercing({ ...route, schema: { ...route.schema, properties } } as any) as Validate);
    };
  };
  return factory as unknown as ReturnType<typeof AjvCompiler>;
}

interface TextPattern {
  name: string;
  pattern: string;
  re: RegExp;
  /** Typed integer or number: its text must also be within float64 (ajv would coerce a longer one to Infinity and let it through). */
  numeric: boolean;
}

/** The text of an integer in a path or query string, unless its schema gives its own pattern: decimal digits, maybe signed. */
export const INTEGER_TEXT = '^[+-]?[0-9]+$';

/** The text of a number in a path or query string, unless its schema gives its own pattern: plain decimal, maybe with an exponent (no 0x, Infinity, blanks). */
export const NUMBER_TEXT = '^[+-]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?$';

/** The non-string properties of an object schema with a pattern for their text (their own, else INTEGER_TEXT or NUMBER_TEXT). */
function textPatterns(schema: any): TextPattern[] {
  const properties: Record<string, any> = schema && typeof schema === 'object' && schema.properties ? schema.properties : {};
  return Object.entries(properties).flatMap(([name, p]) => {
    if (!p || p.type === 'string') return [];
    const pattern = typeof p.pattern === 'string' ? p.pattern : p.type === 'integer' ? INTEGER_TEXT : p.type === 'number' ? NUMBER_TEXT : undefined;
    return pattern === undefined ? [] : [{ name, pattern, re: new RegExp(pattern, 'u'), numeric: p.type === 'integer' || p.type === 'number' }];
  });
}

/** `validate`, first checking the text of each property of `checks` against its pattern. */
function withTextPatterns(checks: TextPattern[], validate: Validate): Validate {
  const wrapped: Validate = (data: any, ...rest: any[]) => {
    for (const { name, pattern, re, numeric } of checks) {
      const raw = data?.[name];
      if (typeof raw !== 'string') continue;
      if (!re.test(raw)) {
        wrapped.errors = [{ instancePath: `/${name}`, schemaPath: `#/properties/${name}/pattern`, keyword: 'pattern', params: { pattern }, message: `must be written as a plain decimal ${pattern === NUMBER_TEXT ? 'number' : 'integer'} (pattern "${pattern}")` }];
        return false;
      }
      if (numeric && !Number.isFinite(Number(raw))) {
        wrapped.errors = [{ instancePath: `/${name}`, schemaPath: `#/properties/${name}/type`, keyword: 'type', params: {}, message: 'is beyond the float64 range (about 1.8e308): numbers must be finite' }];
        return false;
      }
    }
    const ok = validate(data, ...rest);
    wrapped.errors = validate.errors;
    return ok;
  };
  return wrapped;
}

/** A lone UTF-16 surrogate (in `u` mode a pair is one code point, outside the range). */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** `text` with its lone surrogates written as `\uXXXX`, for a message. */
const escapeSurrogates = (text: string) => text.replace(/[\uD800-\uDFFF]/gu, (c) => `\\u${c.charCodeAt(0).toString(16)}`);

/**
 * The first problem in a parsed JSON body, if any: a `__proto__` or `constructor.prototype` key,
 * and with `strict` (the text has a `\u` escape or a long number) a number out of float64 range or
 * a key or string with a lone surrogate. Without recursion, so any nesting is fine.
 */
function bodyProblem(value: unknown, strict: boolean): Error | undefined {
  const field = (path: string) => clip(escapeSurrogates(path || 'body'));
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length > 0) {
    const [node, path] = stack.pop()!;
    if (strict && typeof node === 'number' && !Number.isFinite(node)) {
      return badRequest(`the number at ${field(path)} is beyond the float64 range (about 1.8e308): JSON numbers must be finite`, field(path));
    }
    if (strict && typeof node === 'string' && LONE_SURROGATE.test(node)) {
      return badRequest(`the string at ${field(path)} holds a lone UTF-16 surrogate (an unpaired \\ud800-\\udfff escape): strings must be Unicode text`, field(path));
    }
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      node.forEach((item, i) => stack.push([item, `${path}[${i}]`]));
      continue;
    }
    for (const key of Object.keys(node)) {
      const at = path ? `${path}.${key}` : key;
      const child = (node as Record<string, unknown>)[key];
      if (key === '__proto__' || (key === 'constructor' && child !== null && typeof child === 'object' && Object.hasOwn(child, 'prototype'))) {
        const where = key === '__proto__' ? at : `${at}.prototype`;
        const name = key === '__proto__' ? '__proto__' : 'constructor.prototype';
        return badRequest(`key "${name}" is not allowed in a JSON body (at ${field(where)}): it could set an object's prototype`, field(where));
      }
      if (strict && LONE_SURROGATE.test(key)) {
        return badRequest(`the key at ${field(at)} holds a lone UTF-16 surrogate (an unpaired \\ud800-\\udfff escape): keys must be Unicode text`, field(at));
      }
      stack.push([child, at]);
    }
  }
  return undefined;
}

/** The application/json body parser (parseAs string). */
export function parseJsonBody(_request: unknown, body: string | Buffer, done: (err: Error | null, body?: unknown) => void): void {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (text.length === 0) return done(new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY(), undefined);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return done(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), undefined);
  }
  // Only a body that mentions either key, or has a \u escape (of a key or a lone surrogate), can hold a
  // forbidden key or a lone surrogate; only one with an exponent of 3 digits or a run of 100 digits can
  // hold a number beyond float64 (below that, |x| < 1e100 * 1e99).
  const strict = /\\u|[eE]\+?\d{3}|\d{100}/.test(text);
  if (strict || /__proto__|constructor/.test(text)) {
    const problem = bodyProblem(value, strict);
    if (problem) return done(problem, undefined);
  }
  done(null, value);
}
