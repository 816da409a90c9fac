import { ref } from 'vue'
import { defineStore } from 'pinia'
import { customersApi } from '@/api/customers'
import { NetworkError } from '@/api/http'
import type { CustomerKind, CustomerSummary } from '@/api/types'
import { loadRead, pick, saveRead } from '@/offline/secure-store'

/** The fields an offline copy of the list keeps: what the list shows, masked phone only. */
export const OFFLINE_FIELDS = [
  'id',
  'kind',
  'name',
  'industry_name',
  'region_name',
  'tier',
  'tags',
  'phone_masked',
  'updated_at',
] as const
export type OfflineCustomer = Pick<CustomerSummary, (typeof OFFLINE_FIELDS)[number]>
const OFFLINE_LIMIT = 100
const PAGE_SIZE = 20

interface OfflineList {
  items: OfflineCustomer[]
  total: number
}

function copyName(q: string, kind: string, owner: number | null): string {
  return `customers:${kind}:${q.trim().toLowerCase()}${owner ? `:owner:${owner}` : ''}`
}

export const useCustomersStore = defineStore('customers', () => {
  const items = ref<OfflineCustomer[]>([])
  const total = ref(0)
  const page = ref(0)
  const loading = ref(false)
  const finished = ref(false)
  const error = ref<unknown>(null)
  const offlineSavedAt = ref<string | null>(null)
  const q = ref('')
  const kind = ref<CustomerKind | ''>('')
  /** A team lead's view of one member's book (null: everything the user may browse). */
  const owner = ref<number | null>(null)
  let generation = 0
  let controller: AbortController | null = null

  function reset(): void {
    generation++
    controller?.abort()
    items.value = []
    total.value = 0
    page.value = 0
    finished.value = false
    error.value = null
    offlineSavedAt.value = null
    loading.value = false
  }

  /** Loads the next page (page 1 after a reset). Offline, page 1 falls back to the sealed copy. */
  async function loadMore(): Promise<void> {
    if (finished.value || (loading.value && page.value > 0)) return
    const mine = generation
    loading.value = true
    error.value = null
    controller = new AbortController()
    const next = page.value + 1
    try {
      const result = await customersApi.list(
        {
          q: q.value.trim() || undefined,
          kind: kind.value || undefined,
          owner_id: owner.value ?? undefined,
          page: next,
          page_size: PAGE_SIZE,
        },
        controller.signal,
      )
      if (mine !== generation) return
      const rows = result.items.map((c) => pick(c, OFFLINE_FIELDS))
      items.value = next === 1 ? rows : [...items.value, ...rows]
      total.value = result.total
      page.value = next
      finished.value = items.value.length >= result.total || result.items.length === 0
      offlineSavedAt.value = null
      if (items.value.length <= OFFLINE_LIMIT) {
        await saveRead(copyName(q.value, kind.value, owner.value), { items: items.value, total: total.value })
      }
    } catch (exc) {
      if (mine !== generation || (exc as Error)?.name === 'AbortError') return
      if (exc instanceof NetworkError && next === 1) {
        const copy = await loadRead<OfflineList>(copyName(q.value, kind.value, owner.value))
        if (mine !== generation) return
        if (copy) {
          items.value = copy.value.items
          total.value = copy.value.total
          offlineSavedAt.value = copy.saved_at
          finished.value = true
          return
        }
      }
      error.value = exc
      finished.value = next === 1 ? false : finished.value
    } finally {
      if (mine === generation) loading.value = false
    }
  }

  async function search(query: string, which: CustomerKind | '' = kind.value): Promise<void> {
    reset()
    q.value = query
    kind.value = which
    await loadMore()
  }

  /** Narrows to one member's customers (or back to all); reloads when it changes. */
  async function forOwner(id: number | null): Promise<void> {
    if (id === owner.value && page.value > 0) return
    reset()
    owner.value = id
    await loadMore()
  }

  async function refresh(): Promise<void> {
    const query = q.value
    reset()
    q.value = query
    await loadMore()
  }

  return { items, total, page, loading, finished, error, offlineSavedAt, q, kind, owner, reset, loadMore, search, forOwner, refresh }
})
