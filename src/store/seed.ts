/** Demo data: load the real fixture curves (fixtures/manifest.json) into an empty database. */
import { readFileSync } from 'node:fs';
import { projectPath } from '../paths.js';
import { parseCurveCsv } from '../curves/csv.js';
import { ingestCurve } from '../curves/ingest.js';
import { countCurves } from './curves.js';
import type { Db } from './db.js';

export interface FixtureEntry {
  file: string;
  name: string;
  schedule: string;
  meta: Record<string, unknown>;
}

export function readManifest(): { source: string; curves: FixtureEntry[] } {
  return JSON.parse(readFileSync(projectPath('fixtures', 'manifest.json'), 'utf8'));
}

/** Insert every fixture curve when the database has no curves yet; returns how many were loaded. */
export function seedFixtures(db: Db): number {
  if (countCurves(db) > 0) return 0;
  const { source, curves } = readManifest();
  db.transaction(() => {
    for (const entry of curves) {
      const points = parseCurveCsv(readFileSync(projectPath('fixtures', entry.file), 'utf8'));
      ingestCurve(db, { name: entry.name, schedule: entry.schedule, meta: { ...entry.meta, source, file: entry.file } }, points);
    }
  })();
  return curves.length;
}
