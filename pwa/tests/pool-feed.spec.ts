import { beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope } from 'vue'
import { fakeFetch } from './helpers'
import type { FeedEvent, OpportunityCard } from '@/api/opportunities'

// A stand-in for the one socket client: the test plays the server's `feed` events and answers
// `resume` requests itself.
type Ack = (answer: { ok: boolean; events?: FeedEvent[]; last_seq?: number; more?: boolean }) => void
const handlers = new Map<string, (data?: unknown) => void>()
const resumes: Array<{ last_seq: number; ack: Ack }> = []
const fakeSocket = {
  connected: false,
  on: (event: string, fn: (data?: unknown) => void) => handlers.set(event, fn),
  off: (event: string) => handlers.delete(event),
  emit: (event: string, data: { last_seq: number }, ack: Ack) => {
    if (event === 'resume') resumes.push({ last_seq: data.last_seq, ack })
  },
}
vi.mock('@/composables/useSocket', () => ({ useSocket: async () => fakeSocket }))

const { usePoolFeed, matchesFilters } = await import('@/features/opportunities/usePoolFeed')

function card(id: number, fields: Partial<OpportunityCard> = {}): OpportunityCard {
  return {
    id,
    title: `商机${id}`,
    customer: { id: null, label: `潜客${id}`, kind: 'corporate', is_prospect: true },
    region_code: '310000',
    region_name: '上海市',
    industry_code: 'C36',
    industry_name: '汽车制造业',
    size: 'medium',
    tier: 'mass',
    product: null,
    estimated_amount_cents: 100_000_00,
    expected_date: null,
    source: 'rm_referral',
    visibility: 'branch',
    quality_score: 50,
    status: 'shared',
    originator: { id: 1, display_name: '甲' },
    owner: null,
    shared_at: '2031-03-10T02:00:00Z',
    claimed_at: null,
    last_activity_at: null,
    priority_until: null,
    recycle_due_at: null,
    recycle_warned: false,
    split: null,
    won_amount_cents: null,
    revenue_cents: null,
    version: 1,
    ...fields,
  }
}

const ev = (seq: number, kind: FeedEvent['kind'], c: OpportunityCard): FeedEvent => ({
  seq,
  kind,
  at: '2031-03-10T02:00:00Z',
  opportunity: c,
  actor: null,
})

const page = (items: OpportunityCard[], lastSeq: number) => ({
  items,
  last_seq: lastSeq,
  open_claims: 0,
  max_open_claims: 5,
  has_priority: false,
})

async function started(items: OpportunityCard[], lastSeq: number, filters = {}, selfId?: number) {
  fakeFetch([{ path: '/api/v1/opportunities/feed', body: page(items, lastSeq) }])
  const scope = effectScope()
  const feed = scope.run(() => usePoolFeed(() => filters, { selfId: () => selfId }))!
  await feed.start()
  return { feed, scope, live: (e: FeedEvent) => handlers.get('feed')?.(e) }
}

const ids = (list: OpportunityCard[]) => list.map((c) => c.id)

beforeEach(() => {
  handlers.clear()
  resumes.length = 0
  fakeSocket.connected = false
  vi.unstubAllGlobals()
})

describe('usePoolFeed', () => {
  it('keeps the ranked order and holds new arrivals behind the badge, newest first, until shown', async () => {
    const { feed, live } = await started([card(3), card(1), card(2)], 10)
    expect(ids(feed.items.value)).toEqual([3, 1, 2]) // the server's fit ranking, untouched
    live(ev(11, 'shared', card(7)))
    live(ev(12, 'shared', card(8)))
    expect(ids(feed.items.value)).toEqual([3, 1, 2]) // nothing jumps while the RM reads
    expect(ids(feed.pending.value)).toEqual([8, 7]) // the badge says 2
    feed.showPending()
    expect(ids(feed.items.value)).toEqual([8, 7, 3, 1, 2])
    expect(feed.pending.value).toEqual([])
  })

  it('updates a visible card in place when it is claimed, and takes a claimed arrival off the badge', async () => {
    const { feed, live } = await started([card(1), card(2)], 10)
    live(ev(11, 'claimed', card(2, { status: 'claimed', owner: { id: 9, display_name: '乙' } })))
    expect(ids(feed.items.value)).toEqual([1, 2])
    expect(feed.items.value[1]).toMatchObject({ status: 'claimed', owner: { display_name: '乙' } })
    live(ev(12, 'shared', card(5)))
    live(ev(13, 'shared', card(6)))
    live(ev(14, 'claimed', card(5, { status: 'claimed' })))
    expect(ids(feed.pending.value)).toEqual([6])
    live(ev(15, 'recycled', card(2, { status: 'shared', owner: null }))) // back in the pool, still in place
    expect(ids(feed.items.value)).toEqual([1, 2])
    expect(feed.items.value[1].status).toBe('shared')
  })

  it('shows each opportunity once however often its events arrive', async () => {
    const { feed, live } = await started([card(1)], 10)
    const seven = ev(11, 'shared', card(7))
    live(seven)
    live(seven) // the same event twice (live, then in a catch-up)
    live(ev(12, 'recycled', card(7, { title: '商机7（已回收）' }))) // a new event for the same card
    expect(ids(feed.pending.value)).toEqual([7])
    expect(feed.pending.value[0].title).toBe('商机7（已回收）')
    live(ev(13, 'shared', card(1, { quality_score: 80 }))) // already listed: updated, not added
    expect(ids(feed.items.value)).toEqual([1])
    expect(feed.items.value[0].quality_score).toBe(80)
    expect(ids(feed.pending.value)).toEqual([7])
  })

  it('ignores what the page already holds, and an older event replayed after a newer one', async () => {
    const { feed, live } = await started([card(1)], 10)
    live(ev(9, 'shared', card(4))) // seq below the page: its effect is in the page already
    expect(feed.pending.value).toEqual([])
    live(ev(12, 'claimed', card(1, { status: 'claimed' })))
    live(ev(11, 'shared', card(1))) // late, older: must not un-claim the card
    expect(feed.items.value[0].status).toBe('claimed')
  })

  it('catches up from its last sequence on every reconnect, page by page, in stream order', async () => {
    const { feed, live } = await started([card(1)], 10)
    expect(resumes).toEqual([]) // not connected yet
    handlers.get('connect')?.()
    expect(resumes.map((r) => r.last_seq)).toEqual([10])
    resumes[0].ack({ ok: true, events: [ev(11, 'shared', card(5))], last_seq: 11, more: true })
    expect(resumes.map((r) => r.last_seq)).toEqual([10, 11]) // a long gap: ask for the next page
    live(ev(14, 'shared', card(9))) // live arrives while the catch-up is still coming
    resumes[1].ack({ ok: true, events: [ev(12, 'shared', card(6)), ev(13, 'shared', card(7))], last_seq: 13 })
    expect(ids(feed.pending.value)).toEqual([9, 7, 6, 5])
    // the network drops and comes back: the next resume starts after everything applied
    handlers.get('connect')?.()
    expect(resumes.at(-1)?.last_seq).toBe(14)
    resumes.at(-1)?.ack({ ok: true, events: [ev(14, 'shared', card(9))], last_seq: 14 })
    expect(ids(feed.pending.value)).toEqual([9, 7, 6, 5])
    expect(feed.lastSeq()).toBe(14)
  })

  it('asks for the gap at once when the socket is already up, and keeps out own shares and filtered-out cards', async () => {
    fakeSocket.connected = true
    const { feed, live } = await started([card(1)], 20, { industry: 'C' }, 1)
    expect(resumes.map((r) => r.last_seq)).toEqual([20])
    live(ev(21, 'shared', card(2, { industry_code: 'K70' }))) // another industry than the filter
    live(ev(22, 'shared', card(3, { originator: { id: 1, display_name: '我' } }))) // my own share
    live(ev(23, 'shared', card(4, { originator: { id: 2, display_name: '丙' } })))
    expect(ids(feed.pending.value)).toEqual([4])
    expect(matchesFilters(card(5, { title: '扩产贷款' }), { q: '扩产' })).toBe(true)
    expect(matchesFilters(card(5, { title: '扩产贷款' }), { q: '理财' })).toBe(false)
  })

  it('a reload starts a fresh page: badge emptied, later events applied again', async () => {
    const { feed, live } = await started([card(1)], 10)
    live(ev(11, 'shared', card(2)))
    fakeFetch([{ path: '/api/v1/opportunities/feed', body: page([card(2), card(1)], 11) }])
    await feed.load()
    expect(ids(feed.items.value)).toEqual([2, 1])
    expect(feed.pending.value).toEqual([])
    live(ev(12, 'claimed', card(2, { status: 'claimed' })))
    expect(feed.items.value[0].status).toBe('claimed')
  })

  it('loads the list afresh when the server says what the RM may see has changed', async () => {
    const { feed } = await started([card(1), card(2)], 10)
    fakeFetch([{ path: '/api/v1/opportunities/feed', body: page([card(5)], 14) }])
    handlers.get('access_changed')?.({ rooms_changed: true })
    await vi.waitFor(() => expect(ids(feed.items.value)).toEqual([5]))
    expect(feed.lastSeq()).toBe(14)
  })

  it('stops listening when its screen goes away', async () => {
    const { scope } = await started([card(1)], 10)
    expect(handlers.has('feed')).toBe(true)
    scope.stop()
    expect(handlers.has('feed')).toBe(false)
    expect(handlers.has('connect')).toBe(false)
    expect(handlers.has('access_changed')).toBe(false)
  })
})
