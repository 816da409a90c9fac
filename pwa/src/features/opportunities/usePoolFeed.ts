// The live pool: the ranked list from HTTP, then `/feed` events. New arrivals wait in `pending`
// (the "new" badge) so the list never jumps while the RM reads; claims and withdrawals update cards
// in place. Events are applied once each (by seq), a card appears once (by id), and anything at or
// below the page's `last_seq` is already in the page. After a (re)connect the client asks for the
// gap since the last seq it has (`resume`).
import { onScopeDispose, ref, shallowRef } from 'vue'
import { useSocket, type TypedSocket } from '@/composables/useSocket'
import type { FeedResumeAck } from '@/composables/socketEvents'
import { opportunitiesApi, type FeedEvent, type FeedPage, type OpportunityCard } from '@/api/opportunities'

export interface PoolFilters {
  industry?: string
  q?: string
}

/** Whether a live card belongs in the list the RM filtered (the same filters the server applies). */
export function matchesFilters(card: OpportunityCard, filters: PoolFilters): boolean {
  if (filters.industry && !(card.industry_code ?? '').toUpperCase().startsWith(filters.industry.toUpperCase())) return false
  const q = filters.q?.trim().toLowerCase()
  if (q && !`${card.title} ${card.customer.label ?? ''}`.toLowerCase().includes(q)) return false
  return true
}

export function usePoolFeed(filters: () => PoolFilters, options: { selfId?: () => number | undefined } = {}) {
  const items = ref<OpportunityCard[]>([])
  const pending = ref<OpportunityCard[]>([])
  const meta = ref<Omit<FeedPage, 'items'> | null>(null)
  const loading = ref(false)
  const error = ref<unknown>(null)
  const socket = shallowRef<TypedSocket<'/feed'> | null>(null)
  let pageSeq = 0 // everything up to here is in the loaded page
  let lastSeq = 0 // the highest seq applied: where a resume starts
  let loaded = false
  const seen = new Set<number>()
  const cardSeq = new Map<number, number>() // card id -> seq of the latest event applied to it

  function apply(event: FeedEvent) {
    if (event.seq <= pageSeq || seen.has(event.seq)) return
    seen.add(event.seq)
    lastSeq = Math.max(lastSeq, event.seq)
    const card = event.opportunity
    // an older event replayed after a newer one (a catch-up arriving late) must not undo it
    if ((cardSeq.get(card.id) ?? 0) > event.seq) return
    cardSeq.set(card.id, event.seq)
    const inList = items.value.findIndex((i) => i.id === card.id)
    const inPending = pending.value.findIndex((i) => i.id === card.id)
    if (inList >= 0) {
      // in place, never moved: nothing shifts under a finger
      items.value[inList] = { ...items.value[inList], ...card }
      return
    }
    if (inPending >= 0) pending.value.splice(inPending, 1)
    if (event.kind === 'shared' || event.kind === 'recycled') {
      if (card.originator.id === options.selfId?.() || !matchesFilters(card, filters())) return
      // newest first by the stream's order, not by arrival
      const at = pending.value.findIndex((p) => (cardSeq.get(p.id) ?? 0) < event.seq)
      pending.value.splice(at < 0 ? pending.value.length : at, 0, card)
    }
    // claimed or withdrawn before the RM looked: it simply leaves the badge
  }

  async function load() {
    loading.value = true
    error.value = null
    try {
      const page = await opportunitiesApi.feed(filters())
      const { items: list, ...rest } = page
      items.value = list
      pending.value = []
      cardSeq.clear()
      meta.value = rest
      pageSeq = page.last_seq
      lastSeq = Math.max(lastSeq, page.last_seq)
      for (const seq of seen) if (seq <= pageSeq) seen.delete(seq)
      loaded = true
    } catch (err) {
      error.value = err
    } finally {
      loading.value = false
    }
  }

  function showPending() {
    items.value = [...pending.value, ...items.value]
    pending.value = []
  }

  const onFeed = (event: FeedEvent) => apply(event)
  // Every (re)connect asks for what happened since the list was loaded: the socket may come up
  // after the first page load, or after a network drop.
  const onConnect = () => {
    if (!loaded) return
    socket.value?.emit('resume', { last_seq: lastSeq }, (ack: FeedResumeAck) => {
      if (!ack?.ok) return
      ack.events?.forEach(apply)
      lastSeq = Math.max(lastSeq, ack.last_seq ?? 0)
      if (ack.more) onConnect() // a long gap comes in pages
    })
  }

  // The server moved this RM's socket to other pools (a new team, a qualification gained or lost):
  // what the list holds may no longer be what the RM may see, so it is loaded afresh.
  const onAccessChanged = () => void load()

  async function start() {
    await load()
    const s = await useSocket('/feed')
    socket.value = s
    s.on('feed', onFeed)
    s.on('connect', onConnect)
    s.on('resync', onConnect) // the server may have missed broadcasts: the same catch-up
    s.on('access_changed', onAccessChanged)
    if (s.connected) onConnect()
  }

  onScopeDispose(() => {
    socket.value?.off('feed', onFeed)
    socket.value?.off('connect', onConnect)
    socket.value?.off('resync', onConnect)
    socket.value?.off('access_changed', onAccessChanged)
  })

  return { items, pending, meta, loading, error, load, start, showPending, lastSeq: () => lastSeq }
}
