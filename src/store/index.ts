/** Storage: the Store interface (types.ts) and the factory of its implementation (SQLite, sqlite/). */
import { openSqliteStore } from './sqlite/index.js';
import type { Store, StoreOptions } from './types.js';

export type * from './types.js';
export { StorageFullError } from './errors.js';

/** Check before opening that `path` can hold a writable database (throws an Error saying why). */
export { checkDbPath as checkStorePath } from './sqlite/db.js';

/** Open the store at `path` (a SQLite file, created with its folder if needed; `:memory:` for none). */
export function openStore(path: string, options: StoreOptions = {}): Store {
  return openSqliteStore(path, options);
}
