import { computed, ref } from 'vue'
import { defineStore } from 'pinia'
import { getOutbox } from '@/offline/app-outbox'
import type { FlushResult, NewOutboxItem, OutboxItem } from '@/offline/outbox'

/** The unsynced writes as the UI sees them (count badge, list on the Me page, logout warning). */
export const useOutboxStore = defineStore('outbox', () => {
  const items = ref<OutboxItem[]>([])
  const lastFlush = ref<FlushResult | null>(null)
  let subscribed = false

  const pendingCount = computed(() => items.value.filter((i) => i.status === 'pending').length)
  const failedCount = computed(() => items.value.filter((i) => i.status === 'failed').length)
  const unsyncedCount = computed(() => items.value.length)
  const failedItems = computed(() => items.value.filter((i) => i.status === 'failed'))

  async function refresh(): Promise<void> {
    items.value = await getOutbox().list()
  }

  function watchOutbox(): void {
    if (subscribed) return
    subscribed = true
    getOutbox().subscribe(() => void refresh())
  }

  /** Starts replaying (now, on every `online` event, and on backoff timers). */
  async function start(): Promise<void> {
    watchOutbox()
    await refresh()
    lastFlush.value = await getOutbox().start()
  }

  async function enqueue(input: NewOutboxItem): Promise<OutboxItem> {
    watchOutbox()
    const item = await getOutbox().enqueue(input)
    await refresh()
    return item
  }

  async function flush(): Promise<FlushResult> {
    lastFlush.value = await getOutbox().flush()
    await refresh()
    return lastFlush.value
  }

  async function retry(id: string): Promise<void> {
    await getOutbox().retry(id)
    await refresh()
  }

  async function discard(id: string): Promise<void> {
    await getOutbox().discard(id)
    await refresh()
  }

  return {
    items,
    lastFlush,
    pendingCount,
    failedCount,
    unsyncedCount,
    failedItems,
    refresh,
    start,
    enqueue,
    flush,
    retry,
    discard,
  }
})
