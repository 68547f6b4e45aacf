/**
 * TensorFlow.js backend selection for the schedule optimizer.
 *
 * Order of preference: `@tensorflow/tfjs-node-gpu` (CUDA; an optional dependency, often absent),
 * then `@tensorflow/tfjs-backend-wasm` (wasm files loaded from node_modules), then the plain
 * JavaScript `cpu` backend of `@tensorflow/tfjs`. `LRCAST_TF_BACKEND=node-gpu|wasm|cpu` asks for
 * one; when it cannot load, the next in the list is used and the reason is kept in `backendNotes()`.
 */
import * as tf from '@tensorflow/tfjs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { withoutServerPaths } from '../paths.js';

export type BackendName = 'node-gpu' | 'wasm' | 'cpu';
export const BACKENDS: readonly BackendName[] = ['node-gpu', 'wasm', 'cpu'];

let current: BackendName | undefined;
let initializing: Promise<BackendName> | undefined;
const notes: string[] = [];

/** Why a backend did not load, without the server's file paths (notes reach /health and every optimize answer). */
function noteFailure(backend: string, err: unknown): void {
  notes.push(`${backend} unavailable: ${withoutServerPaths(String((err as Error)?.message ?? err).split('\n')[0]!)}`);
}

async function tryNodeGpu(): Promise<boolean> {
  try {
    // A variable specifier keeps TypeScript from resolving the (usually absent) optional package.
    const name = '@tensorflow/tfjs-node-gpu';
    await import(name);
    if (!(await tf.setBackend('tensorflow'))) throw new Error('backend "tensorflow" did not initialize');
    return true;
  } catch (err) {
    noteFailure('node-gpu', err);
    return false;
  }
}

async function tryWasm(): Promise<boolean> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const require = createRequire(import.meta.url);
    const dist = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));
    // Emscripten reads the .wasm files with fs (no fetch): a plain path prefix ending with the separator.
    wasm.setWasmPaths(join(dist, '/'), false);
    if (!(await tf.setBackend('wasm'))) throw new Error('backend "wasm" did not initialize');
    return true;
  } catch (err) {
    noteFailure('wasm', err);
    return false;
  }
}

async function tryCpu(): Promise<boolean> {
  return tf.setBackend('cpu');
}

const LOADERS: Record<BackendName, () => Promise<boolean>> = { 'node-gpu': tryNodeGpu, wasm: tryWasm, cpu: tryCpu };

/** The backend requested by `LRCAST_TF_BACKEND`, if any (invalid values are noted and ignored). */
export function requestedBackend(): BackendName | undefined {
  const raw = process.env.LRCAST_TF_BACKEND?.trim();
  if (!raw) return undefined;
  if ((BACKENDS as readonly string[]).includes(raw)) return raw as BackendName;
  notes.push(`LRCAST_TF_BACKEND=${raw} is not one of ${BACKENDS.join(', ')}; ignored`);
  return undefined;
}

/**
 * Select and initialize the backend once (later calls return the same one). Resolves to its name.
 * With `force`, re-selects (for tests and the benchmark): `force` names the backend to try first.
 */
export async function initBackend(force?: BackendName): Promise<BackendName> {
  if (force) {
    initializing = undefined;
    current = undefined;
  }
  initializing ??= (async () => {
    const wanted = force ?? requestedBackend();
    const order = wanted ? [wanted, ...BACKENDS.filter((b) => b !== wanted)] : [...BACKENDS];
    for (const name of order) {
      if (await LOADERS[name]()) {
        await tf.ready();
        current = name;
        if (wanted && name !== wanted) notes.push(`requested backend ${wanted} could not load; using ${name}`);
        return name;
      }
    }
    throw new Error('no TensorFlow.js backend could be initialized');
  })();
  return initializing;
}

/** The backend in use, or undefined before `initBackend()` resolved. */
export function currentBackend(): BackendName | undefined {
  return current;
}

/** Why preferred backends were skipped (e.g. "node-gpu unavailable: Cannot find package ..."). */
export function backendNotes(): string[] {
  return [...new Set(notes)];
}

export { tf };
