/** Contract of GET /health. */
import { json } from './common.js';

export const Health = {
  type: 'object',
  required: ['status', 'curves', 'backend', 'backendNotes'],
  properties: {
    status: { type: 'string', const: 'ok' },
    curves: { type: 'integer' },
    backend: {
      type: ['string', 'null'],
      enum: ['node-gpu', 'wasm', 'cpu', null],
      description: 'TensorFlow.js backend of the optimizer, once loaded (the server loads it at start).',
    },
    backendNotes: { type: 'array', items: { type: 'string' }, description: 'Why preferred backends were skipped.' },
  },
} as const;

export const health = {
  summary: 'Liveness, curve count and the TensorFlow.js backend in use.',
  tags: ['service'],
  'x-response': { 200: json('OK', Health) },
} as const;
