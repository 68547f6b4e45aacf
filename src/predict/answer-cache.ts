/**
 * Recent prediction answers, as the JSON bytes sent, keyed by the canonical request (law, params,
 * options, fit, canonical spec, steps): a repeated prediction (a dashboard re-render, a polling
 * client) is answered without any work. Least recently used first out, bounded by bytes held.
 */

/** At most this many bytes of answers held. */
export const MAX_CACHED_BYTES = 32 * 1024 * 1024;
/** Larger answers (with their key) are not kept: they would push out many small ones. */
export const MAX_CACHED_ANSWER_BYTES = 2 * 1024 * 1024;

export class AnswerCache {
  private readonly entries = new Map<string, Uint8Array>();
  private bytes = 0;

  constructor(private readonly maxBytes = MAX_CACHED_BYTES) {}

  get(key: string): Uint8Array | undefined {
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key); // re-inserted: most recently used last
      this.entries.set(key, hit);
    }
    return hit;
  }

  set(key: string, answer: Uint8Array): void {
    if (answer.byteLength + key.length > Math.min(MAX_CACHED_ANSWER_BYTES, this.maxBytes) || this.entries.has(key)) return;
    this.entries.set(key, answer);
    this.bytes += answer.byteLength + key.length;
    for (const [oldKey, old] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldKey);
      this.bytes -= old.byteLength + oldKey.length;
    }
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}
