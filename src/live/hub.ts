/**
 * Who follows which live run: the appends publish here, the event streams (GET /curves/{id}/events)
 * subscribe. In process only: a second server instance would not see this one's appends.
 */

export interface PointsEvent {
  added: number;
  unchanged: number;
  pointCount: number;
  lastStep: number;
}

type Listener = (event: PointsEvent) => void;

export class LiveHub {
  private readonly listeners = new Map<number, Set<Listener>>();

  /** Follow curve `curveId`'s appends; returns the unsubscribe. */
  subscribe(curveId: number, listener: Listener): () => void {
    let set = this.listeners.get(curveId);
    if (!set) this.listeners.set(curveId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(curveId) === set) this.listeners.delete(curveId);
    };
  }

  publish(curveId: number, event: PointsEvent): void {
    for (const listener of [...(this.listeners.get(curveId) ?? [])]) listener(event);
  }
}
