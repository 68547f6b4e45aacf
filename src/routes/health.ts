/** Liveness and what the service runs with. */
import type { FastifyInstance } from 'fastify';
import { countCurves } from '../store/curves.js';
import { backendNotes, currentBackend } from '../optimize/backend.js';

export default async function healthRoutes(app: FastifyInstance) {
  app.get('/health', async () => ({
    status: 'ok',
    curves: countCurves(app.db),
    backend: currentBackend() ?? null,
    backendNotes: backendNotes(),
  }));
}
