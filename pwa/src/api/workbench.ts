// The workbench API: home cards, mirror, sellable products, resources, performance, customer mix,
// the customer 360 and the visit log (which goes through the offline outbox, see LogVisitView).
import { http } from './http'

export interface HomeCard {
  type: string
  title: string
  items?: Array<Record<string, unknown>>
  [extra: string]: unknown
}
export interface HomePayload {
  persona: string
  cards: HomeCard[]
}

export interface Driver {
  indicator: string
  label: string
  score: number
  contribution: number
  explanation: string
}
export interface Power {
  score: number
  top_drivers: Driver[]
  indicators: Driver[]
}
export interface EvaluationSummary {
  count: number
  average: number | null
  criteria: Record<string, number>
}
export interface MirrorPortrait {
  rm: { id: number; display_name: string }
  month: string
  challenge_power: Power
  combat_power: Power
  radar: Array<{ indicator: string; label: string; power: string; score: number }>
  percentile: { challenge_power: number; combat_power: number; team_size: number }
  trend: Array<{ month: string; challenge_power: number; combat_power: number }>
  evaluations: Record<'self' | 'colleague' | 'team_lead' | 'customer', EvaluationSummary>
  self_vs_others: number | null
}
export interface PendingEvaluation {
  rm_id: number
  display_name: string
  is_self: boolean
}
export interface RatingLink {
  id: number
  url: string
  token: string
  expires_at: string
  qr_svg: string
}

export interface SellableProduct {
  id: number
  code: string
  name: string
  category: string
  segment: string
  terms: string
  risk_level: string | null
  selling_points: string[]
  advantages: string[]
  target_profile: string | null
  fitting_customers: number
  cases?: Array<{ customer_label: string; story: string; result: string }>
  customers?: Array<{ id: number; name: string; kind: string; tier: string }>
}

export interface ResourceItem {
  id: number
  kind: string
  name: string
  detail: Record<string, unknown>
  bookable: boolean
  amount_cents?: number | null
  remaining_cents?: number
  upcoming?: Array<{ id: number; starts_at: string; ends_at: string; mine: boolean; purpose: string | null }>
}
export interface ResourcesPayload {
  product: ResourceItem[]
  office: ResourceItem[]
  collaboration: ResourceItem[]
  tools: { calculators: string[]; document_templates: Array<{ code: string; name: string; category: string }> }
}

export interface PerformancePayload {
  month: string
  customers: { new: number; existing: number }
  business: { new_cents: number; existing_cents: number }
  revenue: { target_cents: number | null; achieved_cents: number; shared_credit_cents: number; completion: number | null }
  annual: { target_cents: number | null; achieved_cents: number; progress: number | null; year_elapsed: number }
  team_rank: { rank: number; team_size: number }
  trend: Array<{ month: string; revenue_cents: number; new_business_cents: number; existing_business_cents: number }>
}
export interface MixItem {
  value: string | null
  label: string
  customers: number
  share: number
  team_share: number
}
export interface MixPayload {
  dimensions: Array<{ dimension: string; items: MixItem[] }>
  government_share: { share: number; team_share: number }
  central_soe_share: { share: number; team_share: number }
  best_segments: Array<{ label: string; customers: number; converted: number; conversion: number }>
  team_size: number
}

export interface KnowledgeQuestion {
  key: string
  label: string
  dimension: string
  status: 'missing' | 'stale'
  gain: number
  question: string
}
export interface Knowledge {
  total: number
  live_total: number
  computed_at: string | null
  dimensions: Array<{ code: string; label: string; weight: number; score: number }>
  facts: Array<{ key: string; label: string; dimension: string; value: string | null; learned_at: string; source: string }>
  next_visit_questions: KnowledgeQuestion[]
}
export interface TimelineItem {
  kind: string
  at: string
  title: string
  detail: Record<string, unknown>
  ref: Record<string, number>
}
export interface Customer360 {
  profile: { id: number; name: string; kind: string; tier: string; industry_name: string | null;
    region_name: string | null; phone_masked: string | null; tags: string[]; version: number }
  holdings: Array<{ id: number; product_name: string; category: string; balance_cents: number;
    loan_balance_cents: number; opened_on: string; matures_on: string | null; status: string }>
  holdings_total: { balance_cents: number; loan_balance_cents: number; products: number }
  timeline: TimelineItem[]
  graph: { nodes: Array<{ id: string; label: string; kind: string; center?: boolean; masked?: boolean }>;
    edges: Array<{ from: string; to: string; kind: string; label: string | null }> }
  opportunities: Array<{ id: number; title: string; status: string; estimated_amount_cents: number | null }>
  knowledge: Knowledge
}
export interface KnowledgeModel {
  [kind: string]: Array<{ code: string; label: string; facts: Array<{ key: string; label: string; question: string }> }>
}

export interface VisitCreate {
  channel: 'visit' | 'call' | 'meeting' | 'wechat'
  occurred_at: string
  location?: string | null
  attendees?: string | null
  outcome: string
  next_step?: string | null
  next_step_at?: string | null
  facts: Array<{ key: string; value: string | null }>
}

export const visitsUrl = (customerId: number) => `/api/v1/customers/${customerId}/visits`

export const workbenchApi = {
  home: () => http.get<HomePayload>('/api/v1/home'),
  mirror: (month?: string, rmId?: number) =>
    http.get<MirrorPortrait>('/api/v1/mirror', { query: { month, rm_id: rmId } }),
  pending: () => http.get<{ month: string; items: PendingEvaluation[] }>('/api/v1/mirror/pending'),
  evaluate: (rmId: number, scores: Record<string, number>, comment: string | null) =>
    http.post('/api/v1/mirror/evaluations', { rm_id: rmId, scores, comment },
      { headers: { 'Idempotency-Key': crypto.randomUUID() } }),
  ratingLink: (customerId: number) =>
    http.post<RatingLink>('/api/v1/mirror/rating-links', { customer_id: customerId },
      { headers: { 'Idempotency-Key': crypto.randomUUID() } }),
  products: () => http.get<{ items: SellableProduct[] }>('/api/v1/products/sellable'),
  product: (id: number) => http.get<SellableProduct>(`/api/v1/products/sellable/${id}`),
  resources: () => http.get<ResourcesPayload>('/api/v1/resources'),
  book: (resourceId: number, body: Record<string, unknown>) =>
    http.post(`/api/v1/resources/${resourceId}/bookings`, body,
      { headers: { 'Idempotency-Key': crypto.randomUUID() } }),
  performance: (rmId?: number) => http.get<PerformancePayload>('/api/v1/performance', { query: { rm_id: rmId } }),
  mix: (rmId?: number) => http.get<MixPayload>('/api/v1/customer-mix', { query: { rm_id: rmId } }),
  customer360: (id: number) => http.get<Customer360>(`/api/v1/customers/${id}/360`),
  knowledgeModel: () => http.get<KnowledgeModel>('/api/v1/knowledge/model'),
}
