/** withoutServerPaths: messages that reach clients (backend notes, 5xx details) name no server file. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { projectPath, withoutServerPaths } from '../src/paths.js';

test('server paths become project-relative or <path>; routes and ratios stay', () => {
  assert.equal(withoutServerPaths(`imported from ${projectPath('src', 'optimize', 'backend.ts')}`), 'imported from src/optimize/backend.ts');
  assert.equal(withoutServerPaths(`at file://${projectPath('src', 'x.ts')}:3:4`), 'at src/x.ts:3:4');
  assert.equal(withoutServerPaths("ENOENT: no such file, open '/etc/lrcast/secret.json'"), "ENOENT: no such file, open '<path>'");
  assert.equal(withoutServerPaths('C:\\Users\\x\\a.js failed'), '<path> failed');
  assert.equal(withoutServerPaths('see /docs and /health; lr 3e-4/2'), 'see /docs and /health; lr 3e-4/2');
});
