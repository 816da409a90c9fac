// The assistant's API (今日, 拜访简报, 下一个最佳产品, 问展业) and its encrypted offline copies.
import { http, NetworkError } from '@/api/http'
import type { Schemas } from '@/api/types'
import { loadRead, saveRead } from '@/offline/secure-store'

export interface TodayItem {
  kind: 'reminder' | 'task' | 'next_step' | 'maturity' | 'alert' | 'stale_opportunity'
  priority: number
  title: string
  detail?: string
  at: string | null
  customer_id: number | null
  amount_cents?: number
  overdue?: boolean
  ref: Record<string, unknown>
}
export interface RouteStop {
  order: number
  customer_id: number
  name: string
  leg_km: number
  reasons: string[]
}
export interface TodayPayload {
  date: string
  timezone: string
  generated_at: string
  items: TodayItem[]
  counts: Record<string, number>
  visits: {
    start: { name: string } | null
    stops: RouteStop[]
    total_km: number
    unlocated: Array<{ customer_id: number; name: string }>
  }
}
export type ProductPick = Schemas['NextProduct']
export type NextProducts = Schemas['NextProducts']
export type BriefPayload = Schemas['CustomerBrief']
export interface AskFilter {
  key: string
  value: unknown
  label: string
}
export interface AskAnswer {
  q: string
  intent: 'customers' | 'customer' | 'figure' | 'opportunities' | 'alerts' | 'reminders' | 'products'
  filters: AskFilter[]
  name: string | null
  metric: string | null
  result: {
    kind: string
    total?: number
    items?: Array<Record<string, unknown> & { id: number }>
    label?: string
    value?: unknown
    unit?: string
  }
}
export interface AdoptionReport {
  shown: number
  adopted: number
  adoption_rate: number | null
  dismissals: { total: number; by_reason: Array<{ code: string; label: string; count: number }> }
  products: Array<{ product_id: number; name: string; shown: number; adopted: number; dismissed: number }>
  model: { trained_at: string; customers: number; holdings: number } | null
}

/** A read that falls back to its encrypted offline copy when the network is down. */
export async function withOfflineCopy<T>(name: string, fetcher: () => Promise<T>): Promise<{ value: T; savedAt: string | null }> {
  try {
    const value = await fetcher()
    await saveRead(name, value)
    return { value, savedAt: null }
  } catch (exc) {
    if (exc instanceof NetworkError) {
      const copy = await loadRead<T>(name)
      if (copy) return { value: copy.value, savedAt: copy.saved_at }
    }
    throw exc
  }
}

export const assistantApi = {
  today: () => withOfflineCopy('assistant:today', () => http.get<TodayPayload>('/api/v1/today')),
  brief: (id: number) =>
    withOfflineCopy(`assistant:brief:${id}`, () => http.get<BriefPayload>(`/api/v1/customers/${id}/brief`)),
  briefText: async (id: number) => {
    const response = await fetch(`/api/v1/customers/${id}/brief?format=text`, { credentials: 'same-origin' })
    if (!response.ok) throw new NetworkError(String(response.status))
    return response.text()
  },
  nextProducts: (id: number) => http.get<NextProducts>(`/api/v1/customers/${id}/next-products`),
  dismiss: (id: number, productId: number, reason: string) =>
    http.post(
      `/api/v1/customers/${id}/next-products/dismissals`,
      { product_id: productId, reason },
      { headers: { 'Idempotency-Key': crypto.randomUUID() } },
    ),
  ask: (q: string, without: string[]) =>
    http.get<AskAnswer>('/api/v1/ask', { query: { q, without: without.length ? without.join(',') : undefined } }),
  report: () => http.get<AdoptionReport>('/api/v1/admin/next-products/report'),
  retrain: () => http.post<{ request_id: string }>('/api/v1/admin/next-products/retrain'),
}
