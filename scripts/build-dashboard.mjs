// Builds the dashboard (src/dashboard/) into public/: one esbuild bundle for the TS (uPlot included)
// and its CSS, plus index.html. Offline, no CDN, well under a second. `--watch` rebuilds on change.
// Source maps only in a development build (`--dev` or `--watch`): the service never ships its source.
import { build, context } from 'esbuild';
import { mkdirSync, rmSync, copyFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = `${root}src/dashboard/`;
const out = `${root}public/`;
const watch = process.argv.includes('--watch');
const dev = watch || process.argv.includes('--dev');

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
copyFileSync(`${src}index.html`, `${out}index.html`);

const options = {
  entryPoints: { app: `${src}main.ts` },
  outdir: out,
  bundle: true,
  format: 'esm',
  target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
  minify: !watch,
  sourcemap: dev,
  legalComments: 'linked',
  logLevel: 'warning',
};

const started = Date.now();
if (watch) {
  const ctx = await context(options);
  await ctx.watch();
  console.log(`dashboard: watching ${src}`);
} else {
  await build(options);
  console.log(`dashboard: built into public/ in ${Date.now() - started} ms`);
}
