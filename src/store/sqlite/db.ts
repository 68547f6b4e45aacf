/**
 * The embedded SQLite database: opening it (folder created, WAL, foreign keys, busy timeout)
 * and applying `migrations/NNN_name.sql` in order, each once, recorded in `schema_migrations`.
 */
import Database from 'better-sqlite3';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { projectPath } from '../../paths.js';

export type Db = Database.Database;

const MIGRATION_FILE = /^(\d{3})_[\w-]+\.sql$/;

/** Pseudo file systems (statfs magic numbers) where SQLite cannot keep a database: procfs, sysfs. */
const PSEUDO_FS: Record<number, string> = { 0x9fa0: 'procfs', 0x62656572: 'sysfs', 0x64626720: 'debugfs', 0x73636673: 'securityfs', 0x27e0eb: 'cgroupfs', 0x63677270: 'cgroup2fs' };

/** The nearest existing folder at or above `dir`. */
function existingAncestor(dir: string): string {
  let current = resolve(dir);
  while (!existsSync(current) && dirname(current) !== current) current = dirname(current);
  return current;
}

/** Why `message` of a file system error, without the stack: `EACCES: permission denied, ...`. */
function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Check, before opening, that `path` can hold a writable SQLite database: not a folder, not on a
 * pseudo file system (procfs, sysfs: opening there may hang), and writable (the file if it exists,
 * and its folder, where SQLite writes the -wal and -shm files). Throws an Error whose message
 * says why, in one line.
 */
export function checkDbPath(path: string): void {
  if (path === ':memory:') return;
  const file = resolve(path);
  let stat;
  try {
    stat = existsSync(file) ? statSync(file) : undefined;
  } catch (error) {
    throw new Error(`${file} cannot be read: ${reason(error)}`);
  }
  if (stat?.isDirectory()) throw new Error(`${file} is a directory, not a database file`);
  if (stat && !stat.isFile()) throw new Error(`${file} is not a regular file`);
  const folder = existingAncestor(dirname(file));
  if (!statSync(folder).isDirectory()) throw new Error(`${folder} is not a directory`);
  const fsType = PSEUDO_FS[statfsSync(folder).type];
  if (fsType) throw new Error(`${file} is on ${fsType}, a pseudo file system that cannot hold a database`);
  try {
    accessSync(folder, constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new Error(`the folder ${folder} is not writable: ${reason(error)}`);
  }
  if (stat) {
    try {
      accessSync(file, constants.R_OK | constants.W_OK);
    } catch (error) {
      throw new Error(`${file} is not writable: ${reason(error)}`);
    }
  }
}

/**
 * Open (creating if needed) the database at `path` and bring its schema up to date. `maxBytes`:
 * the largest size of the file (SQLite's max_page_count); 0: as large as the disk allows.
 */
export function openDb(path: string, migrationsDir = projectPath('migrations'), maxBytes = 0): Db {
  checkDbPath(path);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, migrationsDir);
  if (maxBytes > 0) {
    // Writes past it fail with SQLITE_FULL, as on a full disk (a file already larger keeps its size).
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.pragma(`max_page_count = ${Math.max(1, Math.floor(maxBytes / pageSize))}`);
  }
  return db;
}

/** Apply every migration not yet recorded, each in its own transaction. Returns the names applied. */
export function migrate(db: Db, migrationsDir: string): string[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const done = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
  );
  const files = readdirSync(migrationsDir).filter((f) => MIGRATION_FILE.test(f)).sort();
  const applied: string[] = [];
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const file of files) {
    const version = Number(MIGRATION_FILE.exec(file)![1]);
    if (done.has(version)) continue;
    const sql = readFileSync(join(migrationsDir, file), 'utf8');
    db.transaction(() => {
      db.exec(sql);
      record.run(version, file, new Date().toISOString());
    })();
    applied.push(file);
  }
  return applied;
}
