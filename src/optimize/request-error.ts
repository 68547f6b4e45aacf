/** The error of a request the optimizer or the cooldown planner cannot take; `field` names the request field at fault (the routes answer 400 with it). */
export class OptimizeRequestError extends RangeError {
  readonly field: string;
  constructor(message: string, field: string) {
    super(message);
    this.name = 'OptimizeRequestError';
    this.field = field;
  }
}

/** Throw an OptimizeRequestError. */
export function fail(message: string, field: string): never {
  throw new OptimizeRequestError(message, field);
}

export function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}
