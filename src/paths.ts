/** Paths inside the project, independent of the working directory the service is started from. */
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function projectPath(...parts: string[]): string {
  return resolve(ROOT, ...parts);
}

/**
 * A message with the server's file paths taken out, for answers to clients (issue 12: no server
 * paths in any answer): paths inside the project become relative to it, any other absolute path
 * of two or more segments (POSIX, `file://` URL or Windows drive) becomes `<path>`; a route such as `/docs` stays.
 */
export function withoutServerPaths(message: string): string {
  const root = ROOT.replace(/[\\/]+$/, '');
  return message
    .replace(/file:\/\/\/?/g, '/')
    .split(root + '/')
    .join('')
    .split(root)
    .join('.')
    .replace(/(?<![\w.])(?:\/[^\s'"`()<>,;:]+){2,}/g, '<path>')
    .replace(/\b[A-Za-z]:\\[^\s'"`()<>,;]+/g, '<path>');
}
