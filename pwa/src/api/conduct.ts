// Conduct oversight (行为监控): ranked RMs, one RM's signals and evidence, cases, the departing-RM
// check. Risk officers and team leads only; every view is audited on the server.
import { http } from './http'

export interface Reason {
  rule: string
  title: string
  fired: boolean
  z: number
  explanation: string
}

export interface RankedRm {
  rm_id: number
  name: string
  team_id: number | null
  peer_group: string
  score: number
  trend: number
  history: { day: string; score: number }[]
  fired: string[]
  reasons: Reason[]
  open_cases: number
}

export interface Signal {
  rule: string
  title: string
  fmt: 'share' | 'ratio' | 'count'
  value: number | null
  peer_median: number
  z: number
  fired: boolean
  points: number
  explanation: string
  evidence_count: number
}

export interface Evidence {
  type: string
  id: number | null
  at: string | null
  day?: string
  label: string
  amount_cents?: number
  customer_id?: number | null
  customer_name?: string | null
  rule: string
  title: string
}

export interface ConductCase {
  id: number
  rm_id: number
  rm_name: string | null
  status: 'open' | 'escalated' | 'confirmed' | 'false_alarm'
  title: string
  rules: string[]
  score_at_open: number | null
  assignee_id: number | null
  assignee_name: string | null
  opened_at: string
  closed_at: string | null
  version: number
  events?: { id: number; kind: string; actor_name: string | null; note: string | null; at: string }[]
}

export interface RmDetail {
  rm: { id: number; name: string; team_id: number | null }
  as_of: string | null
  score: number | null
  peer_group: string | null
  reasons: Reason[]
  history: { day: string; score: number }[]
  signals: Signal[]
  timeline: Evidence[]
  cases: ConductCase[]
}

export interface AtRiskCustomer {
  customer_id: number
  name: string
  tier: string
  balance_cents: number
  reasons: string[]
}

export interface DepartingCheck {
  id: number
  rm_id: number
  status: 'queued' | 'running' | 'done' | 'failed'
  progress: number
  result: {
    score?: number
    window_days?: number
    signals?: { rule: string; title: string; fired: boolean; z: number; explanation: string }[]
    customers?: AtRiskCustomer[]
  }
}

export interface RuleInfo {
  rule: string
  title: string
  enabled: boolean
  params: Record<string, unknown>
  precision: { confirmed: number; false_alarm: number; closed: number; precision: number | null } | null
}

export type CaseAction =
  | { action: 'note'; note: string }
  | { action: 'assign'; assignee_id: number; note?: string }
  | { action: 'escalate'; note?: string }
  | { action: 'close'; disposition: 'confirmed' | 'false_alarm'; note?: string }

export const conductApi = {
  ranked: (limit = 50) => http.get<{ as_of: string | null; items: RankedRm[]; total: number }>('/api/v1/conduct/rms', { query: { limit } }),
  rm: (id: number) => http.get<RmDetail>(`/api/v1/conduct/rms/${id}`),
  startCheck: (id: number, key: string) =>
    http.post<DepartingCheck>(`/api/v1/conduct/rms/${id}/departing-check`, undefined, { headers: { 'Idempotency-Key': key } }),
  check: (id: number) => http.get<DepartingCheck>(`/api/v1/conduct/checks/${id}`),
  cases: (status: 'open' | 'closed' | 'all' = 'all') => http.get<{ items: ConductCase[] }>('/api/v1/conduct/cases', { query: { status } }),
  caseDetail: (id: number) => http.get<ConductCase>(`/api/v1/conduct/cases/${id}`),
  openCase: (rmId: number, note: string, key: string) =>
    http.post<ConductCase>('/api/v1/conduct/cases', { rm_id: rmId, note: note || null }, { headers: { 'Idempotency-Key': key } }),
  act: (id: number, action: CaseAction, version: number, key: string) =>
    http.post<ConductCase>(`/api/v1/conduct/cases/${id}/actions`, { ...action, version }, { headers: { 'Idempotency-Key': key } }),
  rules: () => http.get<{ items: RuleInfo[] }>('/api/v1/conduct/rules'),
}
