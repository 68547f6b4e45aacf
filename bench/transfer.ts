/**
 * Transfer benchmark: fit on some real curves, predict others (other cooldowns, schedule shapes,
 * horizons, peak lrs; fits on noisy train logs), for each fit method. Protocols in
 * transfer-protocols.ts, methods in transfer-methods.ts, scoring in transfer-run.ts.
 *
 * Run: npm run bench:transfer [-- --methods=label,...] [--protocols=name,...] [--json=PATH] [--workers=N]
 *   --methods / --protocols: substring match on labels / names (a protocol group name also matches).
 *   --json: where the results object goes (default bench/results/transfer.json); the markdown
 *   tables go to stdout and next to it as .md (bench/results/transfer.md by default).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { projectPath } from '../src/paths.js';
import { METHODS, selectMethods } from './transfer-methods.js';
import { PROTOCOLS, selectProtocols } from './transfer-protocols.js';
import { formatMarkdown, runTransfer } from './transfer-run.js';

function flag(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.slice(2).find((a) => a.startsWith(prefix))?.slice(prefix.length);
}
const list = (value: string | undefined) => (value ? value.split(',').map((s) => s.trim()).filter(Boolean) : []);

for (const arg of process.argv.slice(2)) {
  if (!/^--(methods|protocols|json|workers)=/.test(arg)) {
    console.error(`unknown argument ${arg}; usage: bench/transfer.ts [--methods=a,b] [--protocols=x,y] [--json=PATH] [--workers=N]`);
    process.exit(2);
  }
}

const methods = selectMethods(list(flag('methods')), METHODS);
const protocols = selectProtocols(list(flag('protocols')), PROTOCOLS);
if (methods.length === 0 || protocols.length === 0) {
  console.error(`nothing to run: ${methods.length} methods, ${protocols.length} protocols match`);
  process.exit(2);
}
const jsonPath = resolve(flag('json') ?? projectPath('bench', 'results', 'transfer.json'));
const mdPath = jsonPath.replace(/\.json$/, '') + '.md';
const workers = Number(flag('workers') ?? 2);

console.error(`transfer: ${protocols.length} protocols x ${methods.length} methods on ${workers} worker(s)`);
const results = await runTransfer(methods, protocols, {
  workers,
  onTask: (o, done, total) => {
    const score = o.error
      ? `FAILED ${o.error.name}: ${o.error.message}`
      : `PredE ${(o.targets!.reduce((t, x) => t + x.predE, 0) / o.targets!.length).toFixed(5)}`;
    console.error(`[${done}/${total}] ${o.protocol} x ${o.method}: fit ${o.fitWallS.toFixed(1)} s, ${score}`);
  },
});
for (const m of results.methods) if (!m.available) console.error(`method ${m.label} unavailable: ${m.unavailableReason}`);

const markdown = formatMarkdown(results);
console.log(markdown);
mkdirSync(dirname(jsonPath), { recursive: true });
writeFileSync(jsonPath, JSON.stringify(results, null, 1) + '\n');
writeFileSync(mdPath, markdown);
console.error(`wrote ${jsonPath} and ${mdPath} (${results.wallS.toFixed(1)} s)`);
