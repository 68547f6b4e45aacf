/**
 * What the two entry points (server.ts: the API; worker.ts: a queue worker) do alike: a start-up
 * failure is one clear line and exit 1, not a stack trace; the app is built or that line says why;
 * SIGTERM or SIGINT close the app cleanly (exit 0), and a second signal, or a stop that takes longer
 * than STOP_LIMIT_MS, exits 1 at once (what still runs is then recovered like after a crash).
 */
import { buildApp, type AppOptions } from './app.js';
import { loadConfig, type Config } from './config.js';
import { describeDatabase } from './store/index.js';

/** Below the 30 s a supervisor (systemd, Kubernetes) usually waits after SIGTERM before SIGKILL. */
export const STOP_LIMIT_MS = 25_000;

export type Fail = (line: string) => never;

/** Print `<name>: <line>` and exit 1. */
export function failAs(name: string): Fail {
  return (line) => {
    console.error(`${name}: ${line}`);
    process.exit(1);
  };
}

/** The configuration from the environment, or `fail` with why. */
export function configOrFail(fail: Fail): Config {
  try {
    return loadConfig();
  } catch (error) {
    return fail(`bad configuration: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** The app, or `fail` with the first line of why it could not start on its database. */
export async function appOrFail(fail: Fail, options: AppOptions): Promise<Awaited<ReturnType<typeof buildApp>>> {
  try {
    return await buildApp(options);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return fail(`failed to start (${describeDatabase(options.dbPath)}): ${message.split('\n')[0]}`);
  }
}

/** On SIGINT or SIGTERM: log `stopping` and close `app` (see the file comment). */
export function stopOnSignals(app: Awaited<ReturnType<typeof buildApp>>, stopping: string): void {
  let stopped = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopped) {
      app.log.warn(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    stopped = true;
    app.log.info(`${signal}: ${stopping}`);
    setTimeout(() => {
      app.log.error(`still stopping after ${STOP_LIMIT_MS / 1000} s: exiting`);
      process.exit(1);
    }, STOP_LIMIT_MS).unref();
    app.close().then(
      () => {
        app.log.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        app.log.error(error, 'stopping failed');
        process.exit(1);
      },
    );
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, stop);
}
