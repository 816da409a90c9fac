// Paging back through a room's stored events, for the chat and the timeline tabs alike. Opening a
// room loads only its latest events; older ones come a page at a time from the events API (which
// reads forward from `after_seq`), so a page back is "the events after firstSeq - 1 - size, up to
// firstSeq". Both tabs read the one `earlier` list, so whatever one tab loaded the other shows too.
import { computed, ref, shallowRef } from 'vue'
import { warRoomsApi, type RoomEvent } from '@/api/warrooms'

export const PAGE = 200 // events per request; the API's largest page
const CHAT_PAGES = 5 // a chat load reads at most this many pages looking for one older message

export const isChatEvent = (event: RoomEvent) => event.kind === 'message' || event.kind === 'system'

/** The request for the page just before `firstSeq`, or null at the room's start. */
export function pageBefore(firstSeq: number, size = PAGE): { after: number; limit: number } | null {
  if (firstSeq <= 1) return null
  const after = Math.max(0, firstSeq - 1 - size)
  return { after, limit: firstSeq - 1 - after }
}

/** Adds a page to the earlier events: only what is older than `firstSeq` and not held yet, in seq order. */
export function mergeEarlier(earlier: RoomEvent[], page: RoomEvent[], firstSeq: number): RoomEvent[] {
  const held = new Set(earlier.map((event) => event.seq))
  const older = page.filter((event) => event.seq < firstSeq && !held.has(event.seq))
  if (!older.length) return earlier
  return [...older, ...earlier].sort((a, b) => a.seq - b.seq)
}

/**
 * The room's history before what the live stream covers. `liveFrom` is the first seq the live
 * stream applies (the events API fills everything before it).
 */
export function useRoomHistory(roomId: number, liveFrom: () => number) {
  const earlier = shallowRef<RoomEvent[]>([])
  const loading = ref(false)
  const firstSeq = computed(() => Math.min(earlier.value[0]?.seq ?? Infinity, liveFrom()))
  const exhausted = ref(false)
  const atStart = computed(() => exhausted.value || firstSeq.value <= 1)

  async function loadPage(): Promise<RoomEvent[]> {
    const before = firstSeq.value
    const request = pageBefore(before)
    if (!request || exhausted.value) return []
    const page = await warRoomsApi.events(roomId, request.after, request.limit)
    const merged = mergeEarlier(earlier.value, page.items, before)
    const added = merged.length - earlier.value.length
    // Stored events are never deleted, so a page adding nothing means there is nothing older.
    if (!added) exhausted.value = true
    earlier.value = merged
    return merged.slice(0, added)
  }

  /** One page back (the timeline's "earlier"). */
  async function loadEarlier(): Promise<RoomEvent[]> {
    if (loading.value) return []
    loading.value = true
    try {
      return await loadPage()
    } finally {
      loading.value = false
    }
  }

  /** Pages back until at least one older chat message is loaded, or the start, or CHAT_PAGES pages. */
  async function loadEarlierChat(): Promise<RoomEvent[]> {
    if (loading.value) return []
    loading.value = true
    try {
      const added: RoomEvent[] = []
      for (let n = 0; n < CHAT_PAGES && !atStart.value; n++) {
        added.unshift(...(await loadPage()))
        if (added.some(isChatEvent)) break
      }
      return added
    } finally {
      loading.value = false
    }
  }

  return { earlier, firstSeq, atStart, loading, loadEarlier, loadEarlierChat }
}
