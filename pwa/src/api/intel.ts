// Intel (情报 · 天时 地利): the RM's alert feed, alert detail with its working and actions, a
// customer's alerts, mutes; for admins the sources, their errors and failed jobs.
import { http } from './http'
import type { Schemas } from './types'

export type IntelCategory = 'policy' | 'market' | 'industry' | 'weather' | 'tender_contract' | 'corporate_event'
export type Sentiment = 'favourable' | 'unfavourable' | 'neutral'

export interface IntelAlert {
  id: number
  item_id: number
  category: IntelCategory
  category_label: string
  title: string
  summary: string
  url: string | null
  published_at: string | null
  customer: { id: number; name: string; industry_name: string | null; region_name: string | null }
  rm_id: number
  score: number
  reason: string
  signals: string[]
  sentiment: Sentiment
  sentiment_label: string
  has_funding_need: boolean
  read: boolean
  created_at: string
}

export interface FundingNeed {
  contract_cents: number
  advance_ratio: number
  need_cents: number
  need_from: string | null
  apply_by: string | null
  product: string
  steps: string[]
}

export interface AlertAction {
  action: 'create_opportunity' | 'start_war_room'
  label: string
  available: boolean
  method: string
  url: string
  body: Record<string, unknown>
}

export interface IntelAlertDetail extends IntelAlert {
  funding_need: FundingNeed | null
  funding_need_text: string | null
  enrichment: {
    companies: string[]
    credit_codes: string[]
    amount_cents: number | null
    dates: string[]
    region_codes: string[]
    industry_codes: string[]
    event_kind: string | null
    sentiment_terms: string[]
  }
  sources: string[]
  matched_customers: { alert_id: number; customer_id: number; name: string; score: number; reason: string; sentiment: Sentiment }[]
  actions: AlertAction[]
}

export interface IntelSource {
  id: number
  name: string
  kind: 'feed' | 'json' | 'upload' | 'manual'
  url: string | null
  category: IntelCategory
  category_label: string
  poll_minutes: number
  min_fetch_seconds: number
  enabled: boolean
  last_fetch_at: string | null
  last_success_at: string | null
  last_error: string | null
  error_count: number
}

export type SourceError = Schemas['SourceError']

export interface FailedJob {
  id: string
  queue: string
  func: string
  args: unknown[]
  error: string | null
  failed_at: string | null
}

export interface Mute {
  id: number
  kind: 'category' | 'customer'
  value: string
  label: string | null
}

export const intelApi = {
  feed: (query: { category?: IntelCategory | ''; unread?: boolean; before_id?: number | null; customer_id?: number } = {}) =>
    http.get<{ items: IntelAlert[]; next_before_id: number | null }>('/api/v1/intel/alerts', { query }),
  counts: () => http.get<{ unread: Record<string, number> }>('/api/v1/intel/alerts/counts'),
  alert: (id: number) => http.get<IntelAlertDetail>(`/api/v1/intel/alerts/${id}`),
  setState: (id: number, state: { read?: boolean; dismissed?: boolean }) =>
    http.post<{ id: number; read: boolean; dismissed: boolean }>(`/api/v1/intel/alerts/${id}/state`, state),
  customerAlerts: (customerId: number) =>
    http.get<{ items: IntelAlert[] }>(`/api/v1/intel/customers/${customerId}/alerts`),
  mutes: () => http.get<{ items: Mute[] }>('/api/v1/intel/mutes'),
  mute: (kind: Mute['kind'], value: string) => http.post<Mute>('/api/v1/intel/mutes', { kind, value }),
  unmute: (id: number) => http.delete<{ ok: boolean }>(`/api/v1/intel/mutes/${id}`),
  /** Sends an action exactly as the server described it (the owning feature validates it). */
  runAction: (action: AlertAction) =>
    http.post<{ id?: number }>(action.url, action.body, { headers: { 'Idempotency-Key': crypto.randomUUID() } }),
  sources: () => http.get<{ items: IntelSource[] }>('/api/v1/intel/sources'),
  createSource: (body: Partial<IntelSource>) => http.post<IntelSource>('/api/v1/intel/sources', body),
  updateSource: (id: number, body: Partial<IntelSource>) => http.patch<IntelSource>(`/api/v1/intel/sources/${id}`, body),
  pollSource: (id: number) => http.post<{ queued: boolean }>(`/api/v1/intel/sources/${id}/poll`),
  sourceErrors: (id: number) => http.get<{ items: SourceError[] }>(`/api/v1/intel/sources/${id}/errors`),
  failedJobs: () => http.get<{ items: FailedJob[] }>('/api/v1/intel/jobs/failed'),
  retryJob: (id: string) => http.post<{ requeued: string }>(`/api/v1/intel/jobs/failed/${encodeURIComponent(id)}/retry`),
}
