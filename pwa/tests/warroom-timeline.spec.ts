import { describe, expect, it } from 'vitest'
import { timelineLines } from '@/features/warrooms/timeline'
import type { RoomEvent } from '@/api/warrooms'

const ev = (seq: number, kind: string, who: string | null = '王敏'): RoomEvent => ({
  room_id: 1,
  seq,
  kind,
  payload: kind === 'message' ? { text: `m${seq}` } : {},
  client_id: null,
  author: who ? { id: who.length, display_name: who } : null,
  created_at: `2026-11-29T00:00:0${seq}Z`,
})
const name = (e: RoomEvent) => e.author?.display_name ?? '系统'

describe('timelineLines', () => {
  it('sums up each run of messages and keeps other events, newest first', () => {
    const lines = timelineLines(
      [ev(1, 'room.created'), ev(2, 'message'), ev(3, 'message', '李强'), ev(4, 'message'), ev(5, 'task.created'), ev(6, 'message', '李强')],
      name,
    )
    expect(lines.map((l) => (l.kind === 'messages' ? `${l.count}:${l.names.join(',')}` : l.event.kind))).toEqual([
      '1:李强',
      'task.created',
      '3:王敏,李强',
      'room.created',
    ])
    expect(lines[2].at).toBe('2026-11-29T00:00:04Z') // a run is dated by its last message
  })

  it('shows system posts (e.g. an alert from a job) as lines of their own', () => {
    const lines = timelineLines([ev(1, 'message'), ev(2, 'system', null), ev(3, 'message')], name)
    expect(lines.map((l) => l.kind)).toEqual(['messages', 'event', 'messages'])
  })

  it('is empty for no events', () => {
    expect(timelineLines([], name)).toEqual([])
  })
})

