/**
 * The `expr` family's expression `f`: parsed with mathjs, checked against an allowlist, and
 * compiled to a JS closure built from the checked node tree (no `eval`, no `new Function`, no
 * mathjs `evaluate`: nothing in the user's text is ever run as code, it only picks which of our
 * closures are combined).
 *
 * Allowed: numbers; the symbols `s` (the step), the spec's own keys (peak, total, warmup and any
 * user constant) and `pi`, `e`; `+ - * / ^ %` (mod), unary `-`/`+`, implicit multiplication
 * (`2 s`), the comparisons `< <= > >= == !=`, `and`, `or`, `not` (true is 1, false 0), `a ? b : c`,
 * parentheses, and calls of the pure math functions in EXPR_FUNCTIONS. Everything else (assignment,
 * function definition, property or index access, arrays, objects, strings, blocks `a; b`, ranges,
 * units, any other symbol or function such as `import`, `evaluate`, `parse`, `typed`) is refused
 * with a ScheduleError on key `f` that says what is not allowed.
 *
 * Arithmetic is plain float64 (JS Math): `sqrt(-1)` or `(-8)^(1/3)` are NaN rather than complex
 * numbers, comparisons are exact, `a % b` is mathjs's mod (`a - b*floor(a/b)`, `a % 0 = a`),
 * round rounds half away from zero. The non-finite or negative values this can give are refused
 * when the schedule is expanded (expand.ts).
 *
 * mathjs is loaded on the first `expr` spec only (it takes about a second to load, which worker
 * threads that never see one need not pay); the server loads it before listening (preloadExprParser),
 * so that second never blocks a request.
 */
import { createRequire } from 'node:module';
import type { MathNode } from 'mathjs';
import { ScheduleError } from './error.js';
import { EXPR_FUNCTION_NAMES, RESERVED_NAMES } from './names.js';

/** The longest expression accepted (characters). */
export const EXPR_MAX_LENGTH = 1000;

type Fn = (...args: number[]) => number;

function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}
function mod(x: number, y: number): number {
  return y === 0 ? x : x - y * Math.floor(x / y);
}

/** Callable functions: name -> [implementation, min args, max args]. */
export const EXPR_FUNCTIONS: Readonly<Record<string, readonly [Fn, number, number]>> = Object.freeze({
  abs: [Math.abs, 1, 1],
  sqrt: [Math.sqrt, 1, 1],
  cbrt: [Math.cbrt, 1, 1],
  exp: [Math.exp, 1, 1],
  expm1: [Math.expm1, 1, 1],
  log: [(x: number, base?: number) => (base === undefined ? Math.log(x) : Math.log(x) / Math.log(base)), 1, 2],
  log10: [Math.log10, 1, 1],
  log2: [Math.log2, 1, 1],
  log1p: [Math.log1p, 1, 1],
  sin: [Math.sin, 1, 1],
  cos: [Math.cos, 1, 1],
  tan: [Math.tan, 1, 1],
  asin: [Math.asin, 1, 1],
  acos: [Math.acos, 1, 1],
  atan: [Math.atan, 1, 1],
  atan2: [Math.atan2, 2, 2],
  sinh: [Math.sinh, 1, 1],
  cosh: [Math.cosh, 1, 1],
  tanh: [Math.tanh, 1, 1],
  min: [Math.min, 1, 64],
  max: [Math.max, 1, 64],
  pow: [Math.pow, 2, 2],
  mod: [mod, 2, 2],
  floor: [Math.floor, 1, 1],
  ceil: [Math.ceil, 1, 1],
  round: [roundHalfAway, 1, 1],
  sign: [Math.sign, 1, 1],
});

const CONSTANTS: Readonly<Record<string, number>> = { pi: Math.PI, e: Math.E };

/** Operators (mathjs OperatorNode `fn`) -> implementation. */
const BINARY: Readonly<Record<string, (a: number, b: number) => number>> = {
  add: (a, b) => a + b,
  subtract: (a, b) => a - b,
  multiply: (a, b) => a * b,
  divide: (a, b) => a / b,
  pow: (a, b) => a ** b,
  mod,
  smaller: (a, b) => (a < b ? 1 : 0),
  smallerEq: (a, b) => (a <= b ? 1 : 0),
  larger: (a, b) => (a > b ? 1 : 0),
  largerEq: (a, b) => (a >= b ? 1 : 0),
  equal: (a, b) => (a === b ? 1 : 0),
  unequal: (a, b) => (a !== b ? 1 : 0),
  and: (a, b) => (a !== 0 && b !== 0 ? 1 : 0),
  or: (a, b) => (a !== 0 || b !== 0 ? 1 : 0),
};
const UNARY: Readonly<Record<string, (a: number) => number>> = {
  unaryMinus: (a) => -a,
  unaryPlus: (a) => a,
  not: (a) => (a === 0 ? 1 : 0),
};

// The function names are listed (with the reserved names) in names.ts, which the browser-safe
// grammar imports; the two lists must agree.
if (Object.keys(EXPR_FUNCTIONS).join() !== EXPR_FUNCTION_NAMES.join()) {
  throw new Error('expr.ts: EXPR_FUNCTIONS and names.ts EXPR_FUNCTION_NAMES disagree');
}
export { RESERVED_NAMES };

/** What a refused node is, in the user's words. */
const REFUSED: Readonly<Record<string, string>> = {
  AssignmentNode: 'assignment',
  FunctionAssignmentNode: 'function definition',
  AccessorNode: 'property or index access',
  IndexNode: 'indexing',
  ObjectNode: 'objects',
  ArrayNode: 'arrays',
  BlockNode: 'several statements (; or a new line)',
  RangeNode: 'ranges (a:b)',
  RelationalNode: 'chained comparisons (a < b < c)',
};

let mathjs: typeof import('mathjs') | undefined;
function mathParse(text: string): MathNode {
  return preloadExprParser().parse(text);
}

/** Load mathjs now (about a second, once): the server does so before it takes requests. */
export function preloadExprParser(): typeof import('mathjs') {
  mathjs ??= createRequire(import.meta.url)('mathjs') as typeof import('mathjs');
  return mathjs;
}

function refuse(what: string): never {
  throw new ScheduleError(`f: ${what} is not allowed (only numbers, s, the spec's keys, pi, e, arithmetic, comparisons, a ? b : c and the functions ${Object.keys(EXPR_FUNCTIONS).join(', ')})`, 'f');
}

/** A compiled node: its value at step s, plus whether it depends on s at all. */
interface Compiled {
  fn: (s: number) => number;
  /** Set when the node does not depend on `s` (it was folded to this value). */
  value?: number;
}

const constant = (value: number): Compiled => ({ fn: () => value, value });

type Node = MathNode & Record<string, unknown>;

function compileConstant(n: Node): Compiled {
  const value = n.value;
  if (typeof value !== 'number') refuse(typeof value === 'string' ? 'a string' : `the literal ${String(value)}`);
  if (!Number.isFinite(value)) refuse(`the literal ${value}`);
  return constant(value);
}

function compileSymbol(n: Node, names: ReadonlyMap<string, number>): Compiled {
  const name = n.name as string;
  if (name === 's') return { fn: (s) => s };
  if (names.has(name)) return constant(names.get(name)!);
  if (Object.hasOwn(CONSTANTS, name)) return constant(CONSTANTS[name]!);
  if (Object.hasOwn(EXPR_FUNCTIONS, name)) refuse(`${name} without a call`);
  return refuse(`the name "${name}" (not s, a key of this spec, pi or e)`);
}

function compileBinary(f: (a: number, b: number) => number, a: Compiled, b: Compiled): Compiled {
  if (a.value !== undefined && b.value !== undefined) return constant(f(a.value, b.value));
  const fa = a.fn;
  const fb = b.fn;
  // The common shapes without the extra call for a constant side.
  if (b.value !== undefined) {
    const vb = b.value;
    return { fn: (s) => f(fa(s), vb) };
  }
  if (a.value !== undefined) {
    const va = a.value;
    return { fn: (s) => f(va, fb(s)) };
  }
  return { fn: (s) => f(fa(s), fb(s)) };
}

function compileOperator(n: Node, names: ReadonlyMap<string, number>): Compiled {
  const op = n.fn as string;
  const args = (n.args as MathNode[]).map((a) => compileNode(a, names));
  if (args.length === 2 && Object.hasOwn(BINARY, op)) {
    const [a, b] = args as [Compiled, Compiled];
    return compileBinary(BINARY[op]!, a, b);
  }
  if (args.length === 1 && Object.hasOwn(UNARY, op)) {
    const f = UNARY[op]!;
    const a = args[0]!;
    if (a.value !== undefined) return constant(f(a.value));
    const fa = a.fn;
    return { fn: (s) => f(fa(s)) };
  }
  return refuse(`the operator ${String(n.op)} (${op})`);
}

function compileConditional(n: Node, names: ReadonlyMap<string, number>): Compiled {
  const c = compileNode(n.condition as MathNode, names);
  const t = compileNode(n.trueExpr as MathNode, names);
  const e = compileNode(n.falseExpr as MathNode, names);
  if (c.value !== undefined) return c.value !== 0 ? t : e;
  const fc = c.fn;
  const ft = t.fn;
  const fe = e.fn;
  return { fn: (s) => (fc(s) !== 0 ? ft(s) : fe(s)) };
}

function compileCall(n: Node, names: ReadonlyMap<string, number>): Compiled {
  const callee = n.fn as MathNode & { name?: string };
  if (callee.type !== 'SymbolNode') refuse('calling the result of an expression');
  const name = callee.name!;
  if (!Object.hasOwn(EXPR_FUNCTIONS, name)) refuse(`the function ${name}()`);
  const [impl, min, max] = EXPR_FUNCTIONS[name]!;
  const args = (n.args as MathNode[]).map((a) => compileNode(a, names));
  if (args.length < min || args.length > max) {
    throw new ScheduleError(`f: ${name}() takes ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'}, not ${args.length}`, 'f');
  }
  if (args.every((a) => a.value !== undefined)) return constant(impl(...args.map((a) => a.value!)));
  const fns = args.map((a) => a.fn);
  if (fns.length === 1) {
    const f0 = fns[0]!;
    return { fn: (s) => impl(f0(s)) };
  }
  if (fns.length === 2) {
    const [f0, f1] = fns as [(s: number) => number, (s: number) => number];
    return { fn: (s) => impl(f0(s), f1(s)) };
  }
  return { fn: (s) => impl(...fns.map((f) => f(s))) };
}

function compileNode(node: MathNode, names: ReadonlyMap<string, number>): Compiled {
  const n = node as Node;
  switch (node.type) {
    case 'ConstantNode':
      return compileConstant(n);
    case 'SymbolNode':
      return compileSymbol(n, names);
    case 'ParenthesisNode':
      return compileNode(n.content as MathNode, names);
    case 'OperatorNode':
      return compileOperator(n, names);
    case 'ConditionalNode':
      return compileConditional(n, names);
    case 'FunctionNode':
      return compileCall(n, names);
    default:
      return refuse(REFUSED[node.type] ?? `a ${node.type}`);
  }
}

/**
 * Parse, check and compile `f` with the spec's keys as named constants: the lr at step s.
 * Throws ScheduleError (key `f`) for a syntax error or anything outside the allowlist.
 */
export function compileExpr(f: string, names: ReadonlyMap<string, number>): (s: number) => number {
  const text = f.trim();
  if (text === '') throw new ScheduleError('f is empty: give an expression in s, e.g. f=peak*(1-(s-warmup)/(total-warmup))', 'f');
  if (text.length > EXPR_MAX_LENGTH) throw new ScheduleError(`f is ${text.length} characters long, over the limit of ${EXPR_MAX_LENGTH}`, 'f');
  let tree: MathNode;
  try {
    tree = mathParse(text);
  } catch (error) {
    throw new ScheduleError(`f does not parse: ${(error as Error).message}`, 'f');
  }
  return compileNode(tree, names).fn;
}
