// The room timeline, newest first: a run of chat messages becomes one line (how many, from whom);
// every other stored event (joins, tasks, targets, stage moves, system posts) is a line of its own.
import type { RoomEvent } from '@/api/warrooms'

export type TimelineLine =
  | { key: string; kind: 'messages'; count: number; names: string[]; at: string }
  | { key: string; kind: 'event'; event: RoomEvent; at: string }

export function timelineLines(events: RoomEvent[], nameOf: (event: RoomEvent) => string): TimelineLine[] {
  const out: TimelineLine[] = []
  let run: RoomEvent[] = []
  const flush = () => {
    if (!run.length) return
    out.push({
      key: `m${run[0].seq}`,
      kind: 'messages',
      count: run.length,
      names: [...new Set(run.map(nameOf))],
      at: run[run.length - 1].created_at,
    })
    run = []
  }
  for (const event of events) {
    if (event.kind === 'message') run.push(event)
    else {
      flush()
      out.push({ key: String(event.seq), kind: 'event', event, at: event.created_at })
    }
  }
  flush()
  return out.reverse()
}
