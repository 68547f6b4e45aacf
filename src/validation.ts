/**
 * Request validation and JSON bodies, as app.ts configures them.
 *
 * Validators: one ajv (via fastify's own @fastify/ajv-compiler, same options) coerces types for the
 * parts of a request that are text (querystring, path params, headers); the body's has no type
 * coercion, so `"1"` is not the number 1 in a JSON body. A path/query property typed as a number
 * with a `pattern` has its pattern checked against its text before coercion (ajv would coerce `1e1`
 * to 10 first and never check it).
 *
 * JSON bodies: parsed with JSON.parse; a `__proto__` key (or `constructor.prototype`) anywhere is
 * a 400 that names it, not "not valid JSON".
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
}

/** The non-string properties of an object schema that declare a `pattern` (of their text). */
function textPatterns(schema: any): TextPattern[] {
  const properties: Record<string, any> = schema && typeof schema === 'object' && schema.properties ? schema.properties : {};
  return Object.entries(properties).flatMap(([name, p]) =>
    p && typeof p.pattern === 'string' && p.type !== 'string' ? [{ name, pattern: p.pattern as string, re: new RegExp(p.pattern, 'u') }] : [],
  );
}

/** `validate`, first checking the text of each property of `checks` against its pattern. */
function withTextPatterns(checks: TextPattern[], validate: Validate): Validate {
  const wrapped: Validate = (data: any, ...rest: any[]) => {
    for (const { name, pattern, re } of checks) {
      const raw = data?.[name];
      if (typeof raw === 'string' && !re.test(raw)) {
        wrapped.errors = [{ instancePath: `/${name}`, schemaPath: `#/properties/${name}/pattern`, keyword: 'pattern', params: { pattern }, message: `must be written as plain decimal digits (pattern "${pattern}")` }];
        return false;
      }
    }
    const ok = validate(data, ...rest);
    wrapped.errors = validate.errors;
    return ok;
  };
  return wrapped;
}

/** The field of the first `__proto__` or `constructor.prototype` key in `value`, if any. */
function forbiddenKey(value: unknown): string | undefined {
  const stack: [unknown, string][] = [[value, '']];
  while (stack.length > 0) {
    const [node, path] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      node.forEach((item, i) => stack.push([item, `${path}[${i}]`]));
      continue;
    }
    for (const key of Object.keys(node)) {
      const at = path ? `${path}.${key}` : key;
      const child = (node as Record<string, unknown>)[key];
      if (key === '__proto__') return at;
      if (key === 'constructor' && child !== null && typeof child === 'object' && Object.hasOwn(child, 'prototype')) return `${at}.prototype`;
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
  // Only a body that mentions either key (or escapes one) can hold it.
  if (/__proto__|constructor|\\u/.test(text)) {
    const field = forbiddenKey(value);
    if (field !== undefined) {
      const key = field.endsWith('.prototype') ? 'constructor.prototype' : '__proto__';
      return done(badRequest(`key "${key}" is not allowed in a JSON body (at ${clip(field)}): it could set an object's prototype`, clip(field)), undefined);
    }
  }
  done(null, value);
}
