/**
 * `npm run openapi`: writes openapi.yaml, the OpenAPI document the server serves at /docs/json,
 * built from the route contracts (src/routes/contracts). The file is committed; test/openapi.test.ts
 * checks that it equals what the server serves. `--check` only compares, and fails when they differ.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { buildApp } from '../src/app.js';
import { projectPath } from '../src/paths.js';

/** The OpenAPI document of an app built on a throwaway database, as YAML. */
export async function generateOpenapi(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'lrcast-openapi-'));
  const app = await buildApp({ dbPath: join(dir, 'openapi.db'), seed: false });
  try {
    await app.ready();
    return stringify(app.swagger(), { lineWidth: 0, blockQuote: 'literal', aliasDuplicateObjects: false });
  } finally {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const target = projectPath('openapi.yaml');
const text = await generateOpenapi();
if (process.argv.includes('--check')) {
  if (readFileSync(target, 'utf8') !== text) {
    console.error('openapi.yaml differs from the document the routes generate: run npm run openapi');
    process.exit(1);
  }
  console.log('openapi.yaml is up to date');
} else {
  writeFileSync(target, text);
  console.log(`wrote ${target}`);
}
