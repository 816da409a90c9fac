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
  can_manage?: boolean
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

/** An RM a team lead may hand an opportunity to, with the admin's claim rules applied. */
export interface Assignee extends PersonRef {
  current: boolean
  qualified: boolean
  open_claims: number
  max_open_claims: number
  at_cap: boolean
}

export interface ReassignInput {
  rm_id: number
  reason: string
  cap_override_reason?: string | null
}

export interface TransferInput {
  visibility: 'team' | 'branch' | 'bank'
  team_id?: number | null
  branch_id?: number | null
  reason: string
}

export interface BenefitAdjustment {
  id: number
  opportunity_id: number
  from_originator_cents: number
  to_originator_cents: number
  reason: string
  at: string
}

export interface ImportRowError {
  row: number
  field: string | null
  code?: string
  message: string
}

export interface ImportReport {
  already_imported: boolean
  rows: number
  valid?: number
  created: number
  errors: ImportRowError[]
  dry_run?: boolean
  import_id?: number
  imported_at?: string
  opportunity_ids?: number[]
}

const base = '/api/v1/opportunities'
// A lead's actions are retried safely: one key per screen visit, the server replays the first answer.
const once = (key: string) => ({ headers: { 'Idempotency-Key': key } })

export const opportunitiesApi = {
  feed: (query: { industry?: string; region?: string; q?: string } = {}) => http.get<FeedPage>(`${base}/feed`, { query }),
  mine: (role: 'owner' | 'originator' | 'team') => http.get<{ items: OpportunityCard[] }>(`${base}/mine`, { query: { role } }),
  get: (id: number) => http.get<OpportunityDetail>(`${base}/${id}`),
  share: (input: ShareInput, key: string) =>
    http.post<OpportunityDetail>(base, input, { headers: { 'Idempotency-Key': key } }),
  claim: (id: number) => http.post<OpportunityDetail>(`${base}/${id}/claim`),
  activity: (id: number, kind: string, note?: string) =>
    http.post<OpportunityDetail>(`${base}/${id}/activities`, { kind, note: note || null }),
  close: (id: number, body: { outcome: 'won' | 'lost'; amount_cents?: number; revenue_cents?: number; reason?: string }) =>
    http.post<OpportunityDetail>(`${base}/${id}/close`, body),
  statement: () => http.get<Statement>(`${base}/benefits`),
  assignees: (id: number) =>
    http.get<{ opportunity_id: number; required_qualification: string | null; items: Assignee[] }>(`${base}/${id}/assignees`),
  reassign: (id: number, body: ReassignInput, key: string) =>
    http.post<OpportunityDetail>(`${base}/${id}/reassign`, body, once(key)),
  transfer: (id: number, body: TransferInput, key: string) =>
    http.post<OpportunityDetail>(`${base}/${id}/transfer`, body, once(key)),
  adjustBenefit: (id: number, body: { originator_share_bp: number; reason: string }, key: string) =>
    http.post<BenefitAdjustment>(`${base}/${id}/benefit-adjustments`, body, once(key)),
  /** CSV/XLSX as base64; `dry_run` checks every row and creates nothing. */
  importFile: (body: { filename: string; content_base64: string; dry_run: boolean }, key: string) =>
    http.post<ImportReport>(`${base}/import`, body, once(key)),
}
