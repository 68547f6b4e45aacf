/** Liveness and what the service runs with. */
import type { FastifyInstance } from 'fastify';
import { backendNotes, currentBackend } from '../optimize/backend.js';
import * as contract from './contracts/service.js';

export default async function healthRoutes(app: FastifyInstance) {
  app.get('/health', { schema: contract.health, config: { open: true } }, async () => ({
    status: 'ok',
    curves: await app.store.curves.count(),
    backend: currentBackend() ?? null,
    backendNotes: backendNotes(),
  }));
}
