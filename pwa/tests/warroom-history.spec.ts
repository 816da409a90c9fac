import { afterEach, describe, expect, it, vi } from 'vitest'
import { warRoomsApi, type RoomEvent } from '@/api/warrooms'
import { mergeEarlier, pageBefore, useRoomHistory } from '@/features/warrooms/history'

const ev = (seq: number, kind = 'message'): RoomEvent => ({
  room_id: 1,
  seq,
  kind,
  payload: kind === 'message' ? { text: `m${seq}` } : {},
  client_id: null,
  author: null,
  created_at: '2026-11-29T00:00:00Z',
})

/** A stored room of `count` events, answering the events API as the server does (seq > after, limit). */
function room(count: number, kindOf: (seq: number) => string = () => 'message') {
  const stored = Array.from({ length: count }, (_, i) => ev(i + 1, kindOf(i + 1)))
  const calls: { after: number; limit: number }[] = []
  vi.spyOn(warRoomsApi, 'events').mockImplementation(async (_id, after, limit = 200) => {
    calls.push({ after, limit })
    return { items: stored.filter((e) => e.seq > after).slice(0, limit), last_seq: count }
  })
  return calls
}

afterEach(() => vi.restoreAllMocks())

describe('pageBefore', () => {
  it('asks for the page just before the first held event', () => {
    expect(pageBefore(351)).toEqual({ after: 150, limit: 200 })
    expect(pageBefore(351, 50)).toEqual({ after: 300, limit: 50 })
  })
  it('stops at the room start', () => {
    expect(pageBefore(120)).toEqual({ after: 0, limit: 119 })
    expect(pageBefore(2)).toEqual({ after: 0, limit: 1 })
    expect(pageBefore(1)).toBeNull()
  })
})

describe('mergeEarlier', () => {
  it('puts older events in front, in seq order', () => {
    const merged = mergeEarlier([ev(5), ev(6)], [ev(3), ev(1), ev(2), ev(4)], 5)
    expect(merged.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6])
  })
  it('drops what is held already or not older than the first held seq', () => {
    const merged = mergeEarlier([ev(3), ev(4)], [ev(2), ev(3), ev(4), ev(9)], 3)
    expect(merged.map((e) => e.seq)).toEqual([2, 3, 4])
  })
  it('returns the same list when the page adds nothing', () => {
    const held = [ev(3)]
    expect(mergeEarlier(held, [ev(3)], 3)).toBe(held)
  })
})

describe('useRoomHistory', () => {
  it('pages back from where the live stream began to the room start, each event once', async () => {
    const calls = room(450)
    const history = useRoomHistory(1, () => 251) // live from seq 251
    expect(history.firstSeq.value).toBe(251)
    const first = await history.loadEarlier()
    expect(first.map((e) => e.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 51))
    expect(history.atStart.value).toBe(false)
    await history.loadEarlier()
    expect(history.earlier.value.map((e) => e.seq)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1))
    expect(history.atStart.value).toBe(true)
    expect(calls).toEqual([
      { after: 50, limit: 200 },
      { after: 0, limit: 50 },
    ])
    expect(await history.loadEarlier()).toEqual([]) // nothing older: no request
    expect(calls).toHaveLength(2)
  })

  it('a chat load pages on past non-message events until it finds a message', async () => {
    // seq 1 is a message; 2..450 are board events; the live stream began at 451.
    const calls = room(460, (seq) => (seq === 1 || seq > 450 ? 'message' : 'task.updated'))
    const history = useRoomHistory(1, () => 451)
    const added = await history.loadEarlierChat()
    expect(calls).toHaveLength(3)
    expect(added.filter((e) => e.kind === 'message').map((e) => e.seq)).toEqual([1])
    expect(added).toHaveLength(450)
    expect(history.atStart.value).toBe(true)
  })

  it('one load at a time: a second tap while loading asks for nothing', async () => {
    const calls = room(300)
    const history = useRoomHistory(1, () => 101)
    const [a, b] = await Promise.all([history.loadEarlierChat(), history.loadEarlierChat()])
    expect(a).toHaveLength(100)
    expect(b).toEqual([])
    expect(calls).toHaveLength(1)
  })

  it('a room opened from its start has nothing to load', async () => {
    const calls = room(20)
    const history = useRoomHistory(1, () => 1)
    expect(history.atStart.value).toBe(true)
    expect(await history.loadEarlierChat()).toEqual([])
    expect(calls).toHaveLength(0)
  })
})
