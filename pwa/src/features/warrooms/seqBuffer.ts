// Puts room events in sequence order. Socket.IO delivers at most once and two processes may emit
// adjacent events in either order, so events are applied only when contiguous: a duplicate (seq
// already applied) is dropped, an early one waits, and a hole asks the caller to fetch the gap.
import type { RoomEvent } from '@/api/warrooms'

export class SeqBuffer {
  lastSeq: number
  private waiting = new Map<number, RoomEvent>()

  constructor(lastSeq = 0) {
    this.lastSeq = lastSeq
  }

  /** Returns the events now ready, in order, and whether a gap remains before the waiting ones. */
  push(events: RoomEvent[]): { ready: RoomEvent[]; gap: boolean } {
    for (const event of events) {
      if (event.seq > this.lastSeq) this.waiting.set(event.seq, event)
    }
    const ready: RoomEvent[] = []
    let next = this.waiting.get(this.lastSeq + 1)
    while (next) {
      this.waiting.delete(next.seq)
      this.lastSeq = next.seq
      ready.push(next)
      next = this.waiting.get(this.lastSeq + 1)
    }
    return { ready, gap: this.waiting.size > 0 }
  }
}
