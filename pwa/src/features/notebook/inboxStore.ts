import { computed, ref } from 'vue'
import { defineStore } from 'pinia'
import { useSocket, type TypedSocket } from '@/composables/useSocket'
import type { InboxAuth } from '@/composables/socketEvents'
import { notebookApi, type InboxItem } from '@/api/notebook'

/** The inbox as the UI sees it: the list, the unread count (badge), and the live /inbox socket.
 *  The server's table is the truth; the socket only hints, and on (re)connect the client sends the
 *  last id it saw so the server replays what it missed. */
export const useInboxStore = defineStore('inbox', () => {
  const items = ref<InboxItem[]>([])
  const unread = ref(0)
  const total = ref(0)
  const loaded = ref(false)
  const live = ref(false)
  let socket: TypedSocket<'/inbox'> | null = null
  let starting: Promise<void> | null = null

  const lastId = computed(() => items.value.reduce((max, n) => Math.max(max, n.id), 0))

  function merge(incoming: InboxItem[]): void {
    const byId = new Map(items.value.map((n) => [n.id, n]))
    for (const n of incoming) byId.set(n.id, n)
    items.value = [...byId.values()].sort((a, b) => b.id - a.id)
  }

  async function load(): Promise<void> {
    const page = await notebookApi.inbox()
    merge(page.items)
    unread.value = page.unread
    total.value = page.total
    loaded.value = true
  }

  async function connect(): Promise<void> {
    // `auth` is read at every (re)connect: a reconnecting socket asks for what came after lastId.
    socket = await useSocket('/inbox', {})
    socket.auth = (cb: (data: InboxAuth) => void) => cb({ last_id: lastId.value })
    socket.on('connect', () => (live.value = true))
    socket.on('disconnect', () => (live.value = false))
    socket.on('unread', (data) => (unread.value = data.unread))
    socket.on('notifications', (data) => {
      merge(data.items)
      unread.value = data.unread
      total.value += data.items.length
    })
    socket.on('missed', (data) => merge(data.items))
    socket.on('resync', () => void load().catch(() => undefined))
    if (socket.connected) live.value = true
  }

  /** Idempotent: the first screen that shows the badge starts it. */
  function start(): Promise<void> {
    if (!starting) {
      starting = (async () => {
        try {
          await load()
        } catch {
          /* offline: the socket and a later load catch up */
        }
        await connect()
      })()
    }
    return starting
  }

  async function markRead(id: number): Promise<void> {
    const item = items.value.find((n) => n.id === id)
    if (!item || item.read_at) return
    const answer = await notebookApi.markRead(id)
    item.read_at = answer.read_at
    unread.value = answer.unread
  }

  async function markAllRead(): Promise<void> {
    const answer = await notebookApi.markAllRead()
    const now = new Date().toISOString()
    items.value.forEach((n) => (n.read_at = n.read_at ?? now))
    unread.value = answer.unread
  }

  function reset(): void {
    socket?.off()
    socket = null
    starting = null
    items.value = []
    unread.value = 0
    loaded.value = false
    live.value = false
  }

  return { items, unread, total, loaded, live, start, load, markRead, markAllRead, reset }
})
