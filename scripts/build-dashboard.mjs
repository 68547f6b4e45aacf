// Placeholder until the dashboard lands: writes public/index.html.
import { mkdirSync, writeFileSync } from 'node:fs';
mkdirSync(new URL('../public/', import.meta.url), { recursive: true });
writeFileSync(new URL('../public/index.html', import.meta.url), '<!doctype html><title>lrcast</title><p>lrcast API: see <a href="/docs">/docs</a>.');
