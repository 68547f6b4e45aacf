/**
 * The names of the `expr` family, in a module of plain data so the browser-safe grammar
 * (grammar.ts) can refuse reserved keys without loading the evaluator (expr.ts, mathjs).
 */

/** The functions f may call (expr.ts implements exactly these; it checks so when loaded). */
export const EXPR_FUNCTION_NAMES: readonly string[] = [
  'abs', 'sqrt', 'cbrt', 'exp', 'expm1', 'log', 'log10', 'log2', 'log1p',
  'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'atan2', 'sinh', 'cosh', 'tanh',
  'min', 'max', 'pow', 'mod', 'floor', 'ceil', 'round', 'sign',
];

/**
 * Names a user constant may not take: the step, the math constants, `f` itself, mathjs's
 * operator words and literals (a key so named could not be referred to), and the functions.
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([
  's', 'f', 'pi', 'e', 'family',
  'mod', 'to', 'in', 'and', 'or', 'xor', 'not', 'true', 'false', 'null', 'undefined', 'NaN', 'Infinity',
  ...EXPR_FUNCTION_NAMES,
]);
