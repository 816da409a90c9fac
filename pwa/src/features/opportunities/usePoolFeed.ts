// The live pool: the ranked list from HTTP, then `/feed` events. New arrivals wait in `pending`
// (a badge) so the list never jumps while the RM reads; claims and withdrawals update cards in
// place. After a reconnect the client asks for the gap since its last seq (`resume`).
import { onBeforeUnmount, ref, shallowRef } from 'vue'
import type { Socket } from 'socket.io-client'
import { useSocket } from '@/composables/useSocket'
import { opportunitiesApi, type FeedEvent, type FeedPage, type OpportunityCard } from '@/api/opportunities'

export function usePoolFeed(filters: () => { industry?: string; q?: string }) {
  const items = ref<OpportunityCard[]>([])
  const pending = ref<OpportunityCard[]>([])
  const meta = ref<Omit<FeedPage, 'items'> | null>(null)
  const loading = ref(false)
  const error = ref<unknown>(null)
  const socket = shallowRef<Socket | null>(null)
  let lastSeq = 0
  let loaded = false
  const seen = new Set<number>()

  function apply(event: FeedEvent) {
    if (event.seq <= lastSeq && seen.has(event.seq)) return
    seen.add(event.seq)
    lastSeq = Math.max(lastSeq, event.seq)
    const card = event.opportunity
    const inList = items.value.findIndex((i) => i.id === card.id)
    const inPending = pending.value.findIndex((i) => i.id === card.id)
    if (event.kind === 'shared' || event.kind === 'recycled') {
      if (inList >= 0) items.value[inList] = { ...items.value[inList], ...card }
      else if (inPending < 0 && card.originator.id !== undefined) pending.value.unshift(card)
    } else {
      // claimed / withdrawn: the card stays where it is, marked, so nothing moves under a finger
      if (inList >= 0) items.value[inList] = { ...items.value[inList], ...card }
      if (inPending >= 0) pending.value.splice(inPending, 1)
    }
  }

  async function load() {
    loading.value = true
    error.value = null
    try {
      const page = await opportunitiesApi.feed(filters())
      const { items: list, ...rest } = page
      items.value = list
      pending.value = []
      meta.value = rest
      lastSeq = Math.max(lastSeq, page.last_seq)
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
    socket.value?.emit('resume', { last_seq: lastSeq }, (ack: { ok: boolean; events?: FeedEvent[]; last_seq?: number }) => {
      if (!ack?.ok) return
      ack.events?.forEach(apply)
      lastSeq = Math.max(lastSeq, ack.last_seq ?? 0)
    })
  }

  async function start() {
    await load()
    const s = await useSocket('/feed')
    socket.value = s
    s.on('feed', onFeed)
    s.on('connect', onConnect)
    if (s.connected) onConnect()
  }

  onBeforeUnmount(() => {
    socket.value?.off('feed', onFeed)
    socket.value?.off('connect', onConnect)
  })

  return { items, pending, meta, loading, error, load, start, showPending }
}
