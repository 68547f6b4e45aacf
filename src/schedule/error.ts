import { clip } from '../errors.js';

/** The schedule grammar's error (re-exported by spec.ts), in its own module so expr.ts can throw it too. */
export class ScheduleError extends Error {
  /** The spec key (or `schedule` for the whole string) that is wrong. */
  readonly key: string;
  constructor(message: string, key = 'schedule') {
    super(message);
    this.name = 'ScheduleError';
    // A key is user text (an unknown key names itself): never echoed whole; an empty one (`constant:=1`) names the spec.
    this.key = key === '' ? 'schedule' : clip(key, 100);
  }
}
