/**
 * The embedded SQLite database: opening it (folder created, WAL, foreign keys, busy timeout)
 * and applying `migrations/NNN_name.sql` in order, each once, recorded in `schema_migrations`.
 */
import Database from 'better-sqlite3';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { projectPath } from '../../paths.js';

export type Db = Database.Database;

const MIGRATION_FILE = /^(\d{3})_[\w-]+\.sql$/;

/** Open (creating if needed) the database at `path` and bring its schema up to date. */
export function openDb(path: string, migrationsDir = projectPath('migrations')): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db, migrationsDir);
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
