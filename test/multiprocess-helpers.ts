/**
 * Processes of a multi-machine setup on one PostgreSQL database, for the multi-process test and
 * bench/scale.ts: API instances (src/server.ts, LRCAST_ROLE=api) and workers (src/worker.ts),
 * started as real child processes and waited for until they say they are ready.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { projectPath } from '../src/paths.js';

export interface Proc {
  child: ChildProcess;
  /** Everything it wrote (stdout and stderr), for failure messages. */
  output: () => string;
  /** The API's base URL (API instances only). */
  base?: string;
  stop: () => Promise<void>;
}

/** A free TCP port on 127.0.0.1 (asked of the OS, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function start(entry: string, env: Record<string, string>, ready: RegExp, timeoutMs = 180_000): Promise<Proc> {
  const child = spawn(process.execPath, ['--import', 'tsx', projectPath('src', entry)], {
    cwd: projectPath(),
    env: { ...process.env, LOG_LEVEL: 'info', LRCAST_SEED: '0', LRCAST_RATE_LIMIT: '0', LRCAST_MAX_EVENT_LOOP_DELAY_MS: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const proc: Proc = {
    child,
    output: () => text,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${entry} did not start in ${timeoutMs} ms:\n${text}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      if (ready.test(text)) {
        clearTimeout(timer);
        resolve(proc);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited (${code ?? signal}) before it was ready:\n${text}`));
    });
  });
}

/** An API instance (LRCAST_ROLE=api) on `databaseUrl`. */
export async function startApi(databaseUrl: string, env: Record<string, string> = {}): Promise<Proc> {
  const port = await freePort();
  const proc = await start('server.ts', { LRCAST_DATABASE_URL: databaseUrl, LRCAST_ROLE: 'api', PORT: String(port), ...env }, /lrcast ready/);
  proc.base = `http://127.0.0.1:${port}`;
  return proc;
}

/** One process alone on a SQLite file (LRCAST_ROLE=all, the default): the single-process setup. */
export async function startSingle(sqlitePath: string, env: Record<string, string> = {}): Promise<Proc> {
  const port = await freePort();
  const proc = await start('server.ts', { LRCAST_DB: sqlitePath, LRCAST_DATABASE_URL: '', PORT: String(port), ...env }, /lrcast ready/);
  proc.base = `http://127.0.0.1:${port}`;
  return proc;
}

/** A worker (`npm run worker`) on `databaseUrl`. */
export function startWorker(databaseUrl: string, env: Record<string, string> = {}): Promise<Proc> {
  return start('worker.ts', { LRCAST_DATABASE_URL: databaseUrl, ...env }, /lrcast worker ready/);
}

/** JSON of a request to an API instance. */
export async function call(base: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}
