// The opportunity pool (商机共享池): feed, share, claim, follow-up, close, my lists, benefit statement.
import { http } from './http'

export interface PersonRef {
  id: number
  display_name: string
}

export interface OpportunityCard {
  id: number
  title: string
  customer: { id: number | null; label: string | null; kind: string; is_prospect: boolean }
  region_code: string | null
  region_name: string | null
  industry_code: string | null
  industry_name: string | null
  size: string | null
  tier: string
  product: { id: number; name: string; required_qualification: string | null } | null
  estimated_amount_cents: number | null
  expected_date: string | null
  source: string
  visibility: string
  quality_score: number
  status: string
  originator: PersonRef
  owner: PersonRef | null
  shared_at: string | null
  claimed_at: string | null
  last_activity_at: string | null
  priority_until: string | null
  recycle_due_at: string | null
  recycle_warned: boolean
  split: { originator_bp: number; closer_bp: number } | null
  won_amount_cents: number | null
  revenue_cents: number | null
  version: number
  // feed only
  fit_score?: number
  reason?: string | null
  reasons?: string[]
  can_claim_now?: boolean
}

export interface OpportunityDetail extends OpportunityCard {
  note: string | null
  transitions?: { from: string | null; to: string; actor_id: number | null; reason: string | null; at: string }[]
  activities?: { id: number; kind: string; note: string | null; actor_id: number; at: string }[]
}

export interface FeedPage {
  items: OpportunityCard[]
  last_seq: number
  open_claims: number
  max_open_claims: number
  has_priority: boolean
}

export interface FeedEvent {
  seq: number
  kind: 'shared' | 'claimed' | 'recycled' | 'withdrawn'
  at: string
  opportunity: OpportunityCard
  actor: PersonRef | null
}

export interface ShareInput {
  title: string
  customer_id?: number | null
  prospect_name?: string | null
  region_code?: string | null
  industry_code?: string | null
  size?: string | null
  product_id?: number | null
  estimated_amount_cents?: number | null
  expected_date?: string | null
  source?: string
  source_ref?: string | null
  note?: string | null
  visibility: 'team' | 'branch' | 'bank' | 'private'
}

export interface Statement {
  rm_id: number
  month: string | null
  total_cents: number
  items: { id: number; opportunity_id: number; title: string; role: string; amount_cents: number; booked_on: string }[]
}

const base = '/api/v1/opportunities'

export const opportunitiesApi = {
  feed: (query: { industry?: string; region?: string; q?: string } = {}) => http.get<FeedPage>(`${base}/feed`, { query }),
  mine: (role: 'owner' | 'originator') => http.get<{ items: OpportunityCard[] }>(`${base}/mine`, { query: { role } }),
  get: (id: number) => http.get<OpportunityDetail>(`${base}/${id}`),
  share: (input: ShareInput, key: string) =>
    http.post<OpportunityDetail>(base, input, { headers: { 'Idempotency-Key': key } }),
  claim: (id: number) => http.post<OpportunityDetail>(`${base}/${id}/claim`),
  activity: (id: number, kind: string, note?: string) =>
    http.post<OpportunityDetail>(`${base}/${id}/activities`, { kind, note: note || null }),
  close: (id: number, body: { outcome: 'won' | 'lost'; amount_cents?: number; revenue_cents?: number; reason?: string }) =>
    http.post<OpportunityDetail>(`${base}/${id}/close`, body),
  statement: () => http.get<Statement>(`${base}/benefits`),
}
