/**
 * Storage: the Store interface (types.ts) and the factory of its implementations: SQLite (sqlite/,
 * a file: one process) and PostgreSQL (postgres/, a `postgres://` URL: shared by several processes,
 * with a durable job queue).
 */
import { openSqliteStore } from './sqlite/index.js';
import { openPostgresStore } from './postgres/index.js';
import { isDatabaseUrl } from './postgres/db.js';
import { checkDbPath } from './sqlite/db.js';
import type { Store, StoreOptions } from './types.js';

export type * from './types.js';
export { StorageFullError } from './errors.js';
export { isDatabaseUrl };

/** The database as logs may show it: a URL without its password (`LRCAST_DATABASE_URL=postgres://user@host/db`), or `LRCAST_DB=path`. */
export function describeDatabase(location: string): string {
  if (!isDatabaseUrl(location)) return `LRCAST_DB=${location}`;
  try {
    const url = new URL(location);
    if (url.password) url.password = '***';
    return `LRCAST_DATABASE_URL=${url.toString()}`;
  } catch {
    return 'LRCAST_DATABASE_URL=(not a URL)';
  }
}

/** Check before opening that `location` can hold a writable database (throws an Error saying why): a SQLite path's checks; a URL is checked by connecting. */
export function checkStorePath(location: string): void {
  if (!isDatabaseUrl(location)) checkDbPath(location);
}

/**
 * Open the store at `location`: a `postgres://` (or `postgresql://`) URL, or a SQLite file (created
 * with its folder if needed; `:memory:` for none). Its schema is brought up to date.
 */
export async function openStore(location: string, options: StoreOptions = {}): Promise<Store> {
  return isDatabaseUrl(location) ? openPostgresStore(location, options) : openSqliteStore(location, options);
}
