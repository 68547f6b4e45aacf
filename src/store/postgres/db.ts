/**
 * The PostgreSQL database: a connection pool on `LRCAST_DATABASE_URL` (optionally confined to one
 * schema, `?schema=NAME`, e.g. one per test), and `migrations/postgres/NNN_name.sql` applied in
 * order, each once and in its own transaction, recorded in `schema_migrations`. Two instances that
 * start at once are safe: migrating holds a transaction-level advisory lock, so the second waits and
 * then finds every migration applied.
 */
import pg from 'pg';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectPath } from '../../paths.js';

const MIGRATION_FILE = /^(\d{3})_[\w-]+\.sql$/;
/** The advisory lock key of lrcast's migrations (any constant; "lrcast" as a number). */
const MIGRATION_LOCK = 0x6c7263617374;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,40}$/;

/** A URL of the PostgreSQL engine (`postgres://` or `postgresql://`) rather than a SQLite file path. */
export function isDatabaseUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/** Where the data is: the connection string for the driver and the schema it lives in (null: the default, public). */
export interface PgLocation {
  connectionString: string;
  schema: string | null;
}

/** Split our own `schema` parameter from the URL (the driver would pass it to the server as a setting). */
export function parseLocation(url: string): PgLocation {
  const parsed = new URL(url);
  const schema = parsed.searchParams.get('schema');
  parsed.searchParams.delete('schema');
  if (schema !== null && !SCHEMA_NAME.test(schema)) throw new Error(`schema=${schema} in the database URL is not a plain lower-case name (a-z, 0-9, _)`);
  return { connectionString: parsed.toString(), schema };
}

/** A double-quoted identifier (names are checked by parseLocation; quoting keeps it exact). */
export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** int8 (counts, bigint columns) as a JS number: lrcast's integers (steps, ids, counts) are far below 2^53. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20 && format !== 'binary') return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as pg.CustomTypesConfig;

/** A pool whose sessions use `schema` (created if missing) as their search path. */
export function createPool(location: PgLocation, max = 10): pg.Pool {
  const pool = new pg.Pool({
    connectionString: location.connectionString,
    max,
    types,
    application_name: 'lrcast',
    ...(location.schema ? { options: `-c search_path=${location.schema}` } : {}),
  });
  // An idle client that loses its connection (server restart) must not crash the process: the pool drops it.
  pool.on('error', (error) => process.emitWarning(`PostgreSQL pool: ${error.message}`));
  return pool;
}

/** A client of a transaction: the queries of one unit of work. */
export type Tx = pg.PoolClient;

/** Run `work` in one transaction on one pooled connection: committed when it resolves, rolled back when it throws. */
export async function transaction<T>(pool: pg.Pool, work: (tx: Tx) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Create the schema if needed and apply every migration not yet recorded, each in its own
 * transaction under the migrations' advisory lock. Returns the names applied.
 */
export async function migrate(pool: pg.Pool, schema: string | null, migrationsDir = projectPath('migrations', 'postgres')): Promise<string[]> {
  const files = readdirSync(migrationsDir).filter((f) => MIGRATION_FILE.test(f)).sort();
  const applied: string[] = [];
  await transaction(pool, async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    if (schema) await tx.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)`);
  });
  for (const file of files) {
    const version = Number(MIGRATION_FILE.exec(file)![1]);
    await transaction(pool, async (tx) => {
      // Under the lock, decide again: another instance may have applied it meanwhile.
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const done = await tx.query('SELECT 1 FROM schema_migrations WHERE version = $1', [version]);
      if (done.rowCount) return;
      await tx.query(readFileSync(join(migrationsDir, file), 'utf8'));
      await tx.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, now())', [version, file]);
      applied.push(file);
    });
  }
  return applied;
}

/** An ISO 8601 string of a timestamptz as read (a Date), the same text SQLite stores. */
export const iso = (value: Date | string) => (value instanceof Date ? value.toISOString() : new Date(value).toISOString());
