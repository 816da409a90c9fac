// The opportunity pool (商机共享池): feed, share, claim, follow-up, close, my lists, benefit statement.
import { http } from './http'
import type { Schemas } from './types'

// Answers are generated from the OpenAPI document (`make api-types`).
export type PersonRef = Schemas['PersonRef']
/** A card as lists show it; the pool's feed adds how it fits the RM (fit_score, reason, ...). */
export type OpportunityCard = Schemas['OpportunityCard'] &
  Partial<Pick<Schemas['FeedCard'], 'fit_score' | 'reason' | 'reasons' | 'can_claim_now'>>
export type OpportunityDetail = Schemas['OpportunityDetail']
export type FeedPage = Schemas['FeedPage']

export interface FeedEvent {
  seq: number
  kind: 'shared' | 'claimed' | 'recycled' | 'withdrawn'
  at: string
  opportunity: OpportunityCard
  actor: PersonRef | null
}

export type ShareInput = Schemas['OpportunityCreate']
export type Statement = Schemas['BenefitStatement']
/** An RM a team lead may hand an opportunity to, with the admin's claim rules applied. */
export type Assignee = Schemas['Assignee']

export type ReassignInput = Schemas['ReassignRequest']
export type TransferInput = Schemas['TransferRequest']

export type BenefitAdjustment = Schemas['BenefitAdjustmentPublic']
export type ImportRowError = Schemas['ImportRowError']
export type ImportReport = Schemas['ImportReport']

const base = '/api/v1/opportunities'
// A lead's actions are retried safely: one key per screen visit, the server replays the first answer.
const once = (key: string) => ({ headers: { 'Idempotency-Key': key } })

export const opportunitiesApi = {
  feed: (query: { industry?: string; region?: string; q?: string } = {}) => http.get<FeedPage>(`${base}/feed`, { query }),
  mine: (role: 'owner' | 'originator' | 'team') => http.get<Schemas['OpportunityList']>(`${base}/mine`, { query: { role } }),
  get: (id: number) => http.get<OpportunityDetail>(`${base}/${id}`),
  share: (input: ShareInput, key: string) =>
    http.post<OpportunityDetail>(base, input, { headers: { 'Idempotency-Key': key } }),
  claim: (id: number) => http.post<OpportunityDetail>(`${base}/${id}/claim`),
  activity: (id: number, kind: string, note?: string) =>
    http.post<OpportunityDetail>(`${base}/${id}/activities`, { kind, note: note || null }),
  close: (id: number, body: Schemas['CloseRequest']) =>
    http.post<OpportunityDetail>(`${base}/${id}/close`, body),
  statement: () => http.get<Statement>(`${base}/benefits`),
  assignees: (id: number) => http.get<Schemas['AssigneeList']>(`${base}/${id}/assignees`),
  reassign: (id: number, body: ReassignInput, key: string) =>
    http.post<OpportunityDetail>(`${base}/${id}/reassign`, body, once(key)),
  transfer: (id: number, body: TransferInput, key: string) =>
    http.post<OpportunityDetail>(`${base}/${id}/transfer`, body, once(key)),
  adjustBenefit: (id: number, body: Schemas['BenefitAdjust'], key: string) =>
    http.post<BenefitAdjustment>(`${base}/${id}/benefit-adjustments`, body, once(key)),
  /** CSV/XLSX as base64; `dry_run` checks every row and creates nothing. */
  importFile: (body: Schemas['ImportRequest'], key: string) =>
    http.post<ImportReport>(`${base}/import`, body, once(key)),
}
