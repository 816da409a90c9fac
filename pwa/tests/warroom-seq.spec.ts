import { describe, expect, it } from 'vitest'
import { SeqBuffer } from '@/features/warrooms/seqBuffer'
import type { RoomEvent } from '@/api/warrooms'

const ev = (seq: number): RoomEvent => ({
  room_id: 1,
  seq,
  kind: 'message',
  payload: { text: `m${seq}` },
  client_id: null,
  author: null,
  created_at: '2026-11-29T00:00:00Z',
})

describe('SeqBuffer', () => {
  it('applies contiguous events in order and drops duplicates', () => {
    const buffer = new SeqBuffer(3)
    expect(buffer.push([ev(4), ev(5)]).ready.map((e) => e.seq)).toEqual([4, 5])
    expect(buffer.push([ev(5), ev(2)]).ready).toEqual([])
    expect(buffer.lastSeq).toBe(5)
  })

  it('holds early events and reports the gap until it is filled', () => {
    const buffer = new SeqBuffer(0)
    const early = buffer.push([ev(3), ev(2)])
    expect(early).toEqual({ ready: [], gap: true })
    const filled = buffer.push([ev(1)])
    expect(filled.ready.map((e) => e.seq)).toEqual([1, 2, 3])
    expect(filled.gap).toBe(false)
  })
})
