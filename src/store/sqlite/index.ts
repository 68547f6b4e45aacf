/** The Store on the embedded SQLite database (better-sqlite3): one file, migrations applied on open. */
import { openDb } from './db.js';
import { SqliteCurves } from './curves.js';
import { SqliteFits } from './fits.js';
import { SqliteSchedules } from './schedules.js';
import { SqliteJobs } from './jobs.js';
import { StorageFullError } from '../errors.js';
import type { Store, StoreOptions } from '../types.js';

/** SQLite's "database or disk is full" (SQLITE_FULL, also at max_page_count) or the OS's ENOSPC. */
function isFull(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: string; message?: string };
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || /ENOSPC|database or disk is full/.test(message ?? '');
}

/** `repository` with a full database or disk reported as StorageFullError by every method (sync or async). */
function reportingFull<T extends object>(repository: T): T {
  const translate = (error: unknown) => {
    throw isFull(error) ? new StorageFullError((error as Error).message) : error;
  };
  return new Proxy(repository, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        try {
          const result = value.apply(target, args);
          return result instanceof Promise ? result.catch(translate) : result;
        } catch (error) {
          return translate(error);
        }
      };
    },
  });
}

/** Open (creating if needed) the SQLite store at `path`, its schema brought up to date. */
export function openSqliteStore(path: string, options: StoreOptions & { migrationsDir?: string } = {}): Store {
  const db = openDb(path, options.migrationsDir, options.maxBytes ?? 0);
  return {
    engine: 'sqlite',
    curves: reportingFull(new SqliteCurves(db)),
    fits: reportingFull(new SqliteFits(db)),
    schedules: reportingFull(new SqliteSchedules(db)),
    jobs: reportingFull(new SqliteJobs(db)),
    close: async () => {
      db.close();
    },
  };
}
