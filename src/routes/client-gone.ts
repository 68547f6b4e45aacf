/**
 * An AbortSignal that fires when the client of a request goes away before its answer is written, so
 * long synchronous work (a fit, a schedule search) stops instead of running for nobody.
 *
 * It listens to the response's 'close' (the connection ended) and checks that the answer was not
 * written yet. The request's own 'close' would not do: Node emits it as soon as the request body has
 * been read, long before the answer.
 */
import type { FastifyReply } from 'fastify';

export function clientGoneSignal(reply: FastifyReply, reason: string): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableEnded) controller.abort(new Error(reason));
  };
  reply.raw.on('close', onClose);
  return { signal: controller.signal, release: () => reply.raw.off('close', onClose) };
}
