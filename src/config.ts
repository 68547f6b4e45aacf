/** Service configuration, read from the environment (documented in README.md). */
import { projectPath } from './paths.js';

export interface Config {
  port: number;
  host: string;
  dbPath: string;
  seed: boolean;
  token: string | undefined;
  logLevel: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = Number(env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT=${env.PORT} is not a port number`);
  return {
    port,
    host: env.HOST ?? '127.0.0.1',
    dbPath: env.LRCAST_DB ?? projectPath('data', 'lrcast.sqlite'),
    seed: (env.LRCAST_SEED ?? '1') !== '0',
    token: env.LRCAST_TOKEN || undefined,
    logLevel: env.LOG_LEVEL ?? 'info',
  };
}
