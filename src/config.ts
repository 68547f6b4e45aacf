/** Service configuration, read from the environment (documented in README.md). */
import { projectPath } from './paths.js';
import { REQUEST_LOG_MODES, type RequestLogMode } from './plugins/request-log.js';
import { ROLES, type JobsOptions, type Role } from './jobs/service-for.js';

export interface Config {
  port: number;
  host: string;
  /** The database: LRCAST_DATABASE_URL (PostgreSQL, shared by several processes) when set, else the SQLite file LRCAST_DB. */
  dbPath: string;
  /** This process's part in the jobs (LRCAST_ROLE, LRCAST_WORKER_*, LRCAST_JOB_*; roles other than all need PostgreSQL). */
  jobs: JobsOptions & { role: Role };
  seed: boolean;
  token: string | undefined;
  /** When set, reads of the API need it (or the write token). */
  readToken: string | undefined;
  /** Origins allowed by CORS; empty: CORS off (no Access-Control headers). */
  corsOrigins: string[];
  /** Requests per minute per client on mutating and heavy routes; 0: no limit. */
  rateLimitPerMinute: number;
  /** Event-loop delay (ms) above which requests get 503 with Retry-After; 0: never. */
  maxEventLoopDelayMs: number;
  /** Largest database size in bytes (LRCAST_DB_MAX_MB); 0: the disk is the limit. */
  dbMaxBytes: number;
  /** Which requests get a log line (LRCAST_REQUEST_LOG): all, errors (status >= 400; default) or off. */
  requestLog: RequestLogMode;
  logLevel: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT=${env.PORT} is not a port number`);
  return {
    port,
    // An empty HOST= is the safe default too, not every interface.
    host: env.HOST?.trim() || '127.0.0.1',
    dbPath: databaseUrl(env.LRCAST_DATABASE_URL) ?? env.LRCAST_DB ?? projectPath('data', 'lrcast.sqlite'),
    jobs: {
      role: role(env.LRCAST_ROLE),
      kinds: workerKinds(env.LRCAST_WORKER_KINDS),
      concurrency: positiveInteger(env, 'LRCAST_WORKER_CONCURRENCY'),
      maxAttempts: positiveInteger(env, 'LRCAST_JOB_MAX_ATTEMPTS'),
      staleSeconds: positiveInteger(env, 'LRCAST_JOB_STALE_SECONDS'),
    },
    seed: (env.LRCAST_SEED ?? '1') !== '0',
    token: env.LRCAST_TOKEN || undefined,
    readToken: env.LRCAST_READ_TOKEN || undefined,
    corsOrigins: parseOrigins(env.LRCAST_CORS_ORIGINS),
    rateLimitPerMinute: nonNegativeInteger(env, 'LRCAST_RATE_LIMIT', 600),
    maxEventLoopDelayMs: nonNegativeInteger(env, 'LRCAST_MAX_EVENT_LOOP_DELAY_MS', 1000),
    dbMaxBytes: nonNegativeInteger(env, 'LRCAST_DB_MAX_MB', 0) * 1024 * 1024,
    requestLog: requestLogMode(env.LRCAST_REQUEST_LOG),
    logLevel: env.LOG_LEVEL ?? 'info',
  };
}

/** `LRCAST_DATABASE_URL`: a postgres:// or postgresql:// URL; unset or empty: none (SQLite). */
function databaseUrl(raw: string | undefined): string | undefined {
  const url = raw?.trim();
  if (!url) return undefined;
  if (!/^postgres(ql)?:\/\/\S+$/i.test(url)) throw new Error('LRCAST_DATABASE_URL is not a postgres:// or postgresql:// URL');
  return url;
}

/** `LRCAST_ROLE`: all (default), api or worker. */
function role(raw: string | undefined): Role {
  const value = raw?.trim().toLowerCase() || 'all';
  if (!(ROLES as readonly string[]).includes(value)) throw new Error(`LRCAST_ROLE=${raw} is not one of ${ROLES.join(', ')}`);
  return value as Role;
}

/** `LRCAST_WORKER_KINDS`: comma-separated job kinds (fit, optimize); unset or empty: every kind. */
function workerKinds(raw: string | undefined): string[] | undefined {
  const kinds = (raw ?? '').split(',').map((k) => k.trim()).filter(Boolean);
  for (const kind of kinds) if (kind !== 'fit' && kind !== 'optimize') throw new Error(`LRCAST_WORKER_KINDS: ${kind} is not a job kind (fit, optimize)`);
  return kinds.length > 0 ? kinds : undefined;
}

/** A whole number >= 1 from `env[name]`, undefined when unset or empty; anything else is a start-up error naming it. */
function positiveInteger(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value < 1) throw new Error(`${name}=${raw} is not a whole number >= 1`);
  return value;
}

/** `LRCAST_REQUEST_LOG`: `errors` when unset or empty; anything but the modes is a start-up error naming it. */
function requestLogMode(raw: string | undefined): RequestLogMode {
  const mode = raw?.trim().toLowerCase() || 'errors';
  if (!(REQUEST_LOG_MODES as readonly string[]).includes(mode)) throw new Error(`LRCAST_REQUEST_LOG=${raw} is not one of ${REQUEST_LOG_MODES.join(', ')}`);
  return mode as RequestLogMode;
}

/** A whole number >= 0 from `env[name]`, `fallback` when unset or empty; anything else is a start-up error naming it. */
function nonNegativeInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value)) throw new Error(`${name}=${raw} is not a whole number >= 0`);
  return value;
}

/** `LRCAST_CORS_ORIGINS`: comma-separated origins (`https://a.example,https://b.example`) or `*`. */
function parseOrigins(raw: string | undefined): string[] {
  const origins = (raw ?? '').split(',').map((o) => o.trim()).filter(Boolean);
  for (const origin of origins) {
    if (origin !== '*' && !/^https?:\/\/[^/\s]+$/.test(origin)) throw new Error(`LRCAST_CORS_ORIGINS: ${origin} is not an origin like https://host:port (no path) or *`);
  }
  return origins;
}
