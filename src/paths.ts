/** Paths inside the project, independent of the working directory the service is started from. */
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function projectPath(...parts: string[]): string {
  return resolve(ROOT, ...parts);
}
