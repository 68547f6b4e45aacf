/**
 * The Store on PostgreSQL (`LRCAST_DATABASE_URL=postgres://...`): shared by every API instance and
 * worker on the database, its schema brought up to date on open (safe when several open at once),
 * with the durable job queue (queue.ts) on the same database.
 */
import type pg from 'pg';
import { createPool, migrate, parseLocation } from './db.js';
import { PgCurves } from './curves.js';
import { PgFits } from './fits.js';
import { PgSchedules } from './schedules.js';
import { PgJobs } from './jobs.js';
import { PgJobQueue } from './queue.js';
import { SizeLimit } from './size-limit.js';
import { StorageFullError } from '../errors.js';
import type { Store, StoreOptions } from '../types.js';

/** PostgreSQL's disk_full (53100) or out of memory for the data (53200 is memory: not storage), and the limit's own error. */
function isFull(error: unknown): boolean {
  const { code } = (error ?? {}) as { code?: string };
  return code === '53100';
}

/** `repository` with a full disk reported as StorageFullError by every method. */
function reportingFull<T extends object>(repository: T): T {
  return new Proxy(repository, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        try {
          return await value.apply(target, args);
        } catch (error) {
          throw isFull(error) ? new StorageFullError((error as Error).message) : error;
        }
      };
    },
  });
}

/** Open the PostgreSQL store at `url` (`?schema=NAME`: in that schema, created if missing), its schema migrated. */
export async function openPostgresStore(url: string, options: StoreOptions & { migrationsDir?: string; poolSize?: number } = {}): Promise<Store> {
  const location = parseLocation(url);
  const pool: pg.Pool = createPool(location, options.poolSize ?? 10);
  try {
    await migrate(pool, location.schema, options.migrationsDir);
  } catch (error) {
    await pool.end().catch(() => {});
    throw error;
  }
  const limit = new SizeLimit(options.maxBytes ?? 0);
  const queue = new PgJobQueue(pool, location);
  return {
    engine: 'postgres',
    curves: reportingFull(new PgCurves(pool, limit)),
    fits: reportingFull(new PgFits(pool, limit)),
    schedules: reportingFull(new PgSchedules(pool)),
    jobs: reportingFull(new PgJobs(pool)),
    queue,
    close: async () => {
      await queue.close();
      await pool.end();
    },
  };
}
