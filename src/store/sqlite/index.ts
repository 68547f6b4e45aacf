/** The Store on the embedded SQLite database (better-sqlite3): one file, migrations applied on open. */
import { openDb } from './db.js';
import { SqliteCurves } from './curves.js';
import { SqliteFits } from './fits.js';
import { SqliteSchedules } from './schedules.js';
import { SqliteJobs } from './jobs.js';
import type { Store } from '../types.js';

/** Open (creating if needed) the SQLite store at `path`, its schema brought up to date. */
export function openSqliteStore(path: string, migrationsDir?: string): Store {
  const db = openDb(path, migrationsDir);
  return {
    curves: new SqliteCurves(db),
    fits: new SqliteFits(db),
    schedules: new SqliteSchedules(db),
    jobs: new SqliteJobs(db),
    close: async () => {
      db.close();
    },
  };
}
