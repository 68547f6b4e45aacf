/**
 * An AbortSignal that fires when the client of a request goes away before its answer is written, so
 * long synchronous work (a fit, a schedule search) stops instead of running for nobody.
 *
 * It listens to the response's 'close' and to the socket's (a pipelined request's response is not
 * attached to the socket yet, so only the socket tells), and checks that the answer was not written.
 * The request's own 'close' would not do: Node emits it as soon as the request body has been read.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpProblem } from '../errors.js';

export function clientGoneSignal(request: FastifyRequest, reply: FastifyReply, reason: string): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const socket = request.raw.socket;
  const onClose = () => {
    if (!reply.raw.writableEnded) controller.abort(new Error(reason));
  };
  reply.raw.on('close', onClose);
  socket?.on('close', onClose);
  if (reply.raw.destroyed || socket?.destroyed) onClose();
  return {
    signal: controller.signal,
    release: () => {
      reply.raw.off('close', onClose);
      socket?.off('close', onClose);
    },
  };
}

/**
 * Work stopped because its client left is not a server error: answer 499 (nobody reads it) instead
 * of logging a 500. Other errors pass through.
 */
export function clientGoneError(signal: AbortSignal, error: unknown): unknown {
  return signal.aborted ? new HttpProblem(499, 'the client closed the request before the answer') : error;
}
