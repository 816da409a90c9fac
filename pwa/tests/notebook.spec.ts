import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { fakeFetch } from './helpers'
import { fromZoneInput as fromLocalInput, toZoneInput as toLocalInput } from '@/lib/format'

// A stand-in for the one socket client: records handlers so the test can play server events.
const handlers = new Map<string, (data: unknown) => void>()
const fakeSocket = {
  connected: true,
  auth: {} as unknown,
  on: (event: string, fn: (data: unknown) => void) => handlers.set(event, fn),
  off: () => handlers.clear(),
}
vi.mock('@/composables/useSocket', () => ({ useSocket: async () => fakeSocket }))

const { useInboxStore } = await import('@/features/notebook/inboxStore')

const item = (id: number, read = false) => ({
  id,
  kind: 'note',
  title: '记事提醒',
  body: `第${id}条`,
  url: `/notes/${id}`,
  urgency: 'normal',
  due_at: null,
  late: false,
  created_at: '2031-03-10T02:00:00Z',
  read_at: read ? '2031-03-10T02:01:00Z' : null,
})

beforeEach(() => {
  setActivePinia(createPinia())
  handlers.clear()
  vi.unstubAllGlobals()
})

describe('notebook time inputs', () => {
  it('round-trips a datetime-local value through an ISO instant', () => {
    const iso = fromLocalInput('2033-01-10T10:00')
    expect(iso).toMatch(/Z$/)
    expect(toLocalInput(iso)).toBe('2033-01-10T10:00')
    expect(fromLocalInput('')).toBeNull()
    expect(fromLocalInput('not a time')).toBeNull()
  })
})

describe('inbox store', () => {
  it('loads, merges live batches and missed items without duplicates, and asks for what came after its last id', async () => {
    fakeFetch([{ path: '/api/v1/inbox', body: { items: [item(2, true), item(1, true)], total: 2, unread: 0 } }])
    const inbox = useInboxStore()
    await inbox.start()
    expect(inbox.items.map((n) => n.id)).toEqual([2, 1])
    expect(inbox.live).toBe(true)

    handlers.get('notifications')?.({ items: [item(3), item(4)], unread: 2 })
    expect(inbox.items.map((n) => n.id)).toEqual([4, 3, 2, 1])
    expect(inbox.unread).toBe(2)

    handlers.get('missed')?.({ items: [item(4), item(5)] })
    expect(inbox.items.map((n) => n.id)).toEqual([5, 4, 3, 2, 1])
    handlers.get('unread')?.({ unread: 3 })
    expect(inbox.unread).toBe(3)

    let sent: unknown = null
    ;(fakeSocket.auth as (cb: (data: object) => void) => void)((data) => (sent = data))
    expect(sent).toEqual({ last_id: 5 })
  })

  it('marks read through the API and takes the server count', async () => {
    const { calls } = fakeFetch([
      { path: '/api/v1/inbox', body: { items: [item(9)], total: 1, unread: 1 } },
      { method: 'POST', path: '/api/v1/inbox/9/read', body: { ...item(9, true), unread: 0 } },
    ])
    const inbox = useInboxStore()
    await inbox.start()
    await inbox.markRead(9)
    expect(inbox.unread).toBe(0)
    expect(inbox.items[0].read_at).not.toBeNull()
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(1)
    await inbox.markRead(9) // already read: no second call
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(1)
  })
})
