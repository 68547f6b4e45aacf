/**
 * `Static<Schema, Refs>`: the TypeScript type of the values a JSON schema (written `as const`)
 * describes, so handlers and the dashboard derive their types from the contracts instead of
 * restating them. Covers the subset the contracts use: `type` (one or a list), `enum`, `const`,
 * `properties` + `required` (a property with a `default` counts as required: request validation
 * fills it in), `additionalProperties`, `items`, `allOf`, `anyOf` and `$ref: 'Name#'`
 * to a shared schema, looked up by name in `Refs`. Type-level only: nothing here exists at run time.
 */

type Flatten<T> = { [K in keyof T]: T[K] } & {};

/** Required properties, and those with a `default` (request validation fills them in). */
type RequiredKeys<S> =
  | (S extends { required: readonly (infer K)[] } ? K : never)
  | (S extends { properties: infer P } ? { [K in keyof P]: P[K] extends { default: unknown } ? K : never }[keyof P] : never);

type Extra<S, R> = S extends { additionalProperties: infer A }
  ? A extends false
    ? {}
    : A extends true
      ? { [key: string]: unknown }
      : { [key: string]: Static<A, R> }
  : {};

type ObjectOf<S, R> = S extends { properties: infer P }
  ? Flatten<
      { -readonly [K in keyof P as K extends RequiredKeys<S> ? K : never]: Static<P[K], R> } & {
        -readonly [K in keyof P as K extends RequiredKeys<S> ? never : K]?: Static<P[K], R>;
      } & Extra<S, R>
    >
  : S extends { additionalProperties: object }
    ? Extra<S, R>
    : Record<string, unknown>;

type ArrayOf<S, R> = S extends { items: infer I } ? Static<I, R>[] : unknown[];

type OfType<S, T, R> = T extends 'object'
  ? ObjectOf<S, R>
  : T extends 'array'
    ? ArrayOf<S, R>
    : T extends 'string'
      ? string
      : T extends 'integer' | 'number'
        ? number
        : T extends 'boolean'
          ? boolean
          : T extends 'null'
            ? null
            : unknown;

type AllOf<A, R> = A extends readonly [infer First, ...infer Rest] ? Static<First, R> & AllOf<Rest, R> : unknown;

export type Static<S, R = {}> = S extends { $ref: `${infer Name}#` }
  ? Name extends keyof R
    ? Static<R[Name], R>
    : unknown
  : S extends { allOf: infer A }
    ? Flatten<AllOf<A, R>>
    : S extends { anyOf: readonly (infer Member)[] }
      ? Static<Member, R>
      : S extends { const: infer C }
        ? C
        : S extends { enum: readonly (infer E)[] }
          ? E
          : S extends { type: infer T }
            ? T extends readonly (infer Each)[]
              ? OfType<S, Each, R>
              : OfType<S, T, R>
            : unknown;
