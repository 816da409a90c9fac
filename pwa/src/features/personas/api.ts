// The personas API: an RM's classified persona (why, history, mentoring), the lead's team with
// overrides and cohort view, the admin's thresholds, the mentoring pair's shared notes.
import { http } from '@/api/http'
import type { Persona } from '@/api/types'

export interface Classification {
  month: string
  persona: Persona
  label: string
  rule: string
  reasons: string[]
  explanation: string
  features: Record<string, number | null>
  classified_at: string
}
export interface Override {
  id: number
  persona: Persona
  reason: string
  by: string | null
  created_at: string
  cleared_at: string | null
}
export interface PairPerson {
  mentorship_id: number
  id: number
  display_name: string
  persona: Persona | null
  started_on: string
  notes: number
}
export interface HistoryItem {
  kind: 'classified' | 'override' | 'override_cleared'
  month: string
  persona: Persona
  from?: Persona | null
  reason?: string
  by?: string | null
  at: string
  reasons?: string[]
}
export interface RmPersona {
  rm_id: number
  display_name: string
  persona: Persona | null
  classification: Classification | null
  override: Override | null
  history: HistoryItem[]
  mentoring: { mentor: PairPerson | null; mentees: PairPerson[] }
}
export interface TeamMember {
  rm_id: number
  display_name: string
  persona: Persona | null
  classification: Classification | null
  override: Override | null
}
export interface CohortNewcomer {
  rm_id: number
  display_name: string
  hire_date: string
  cohort: string
  months_in_post: number
  months_to_first_sale: number | null
  months_to_target: number | null
  readiness: number | null
  mentor: null | {
    mentorship_id: number
    display_name: string
    active: boolean
    checkins: number
    notes: number
    recent_notes: number
    last_note_at: string | null
  }
}
export interface Cohort {
  cohort: string
  rms: number
  median_months_to_first_sale: number | null
  median_months_to_target: number | null
  reached_target: number
}
export interface Thresholds {
  version: number
  defaults: Record<string, number>
  overrides: Record<string, number>
  effective: Record<string, number>
}
export interface MentoringNote {
  id: number
  author_id: number
  author: string
  body: string
  created_at: string
}
export interface MentoringNotes {
  mentorship_id: number
  mentor: { id: number; display_name: string }
  mentee: { id: number; display_name: string }
  started_on: string
  ended_on: string | null
  can_write: boolean
  items: MentoringNote[]
}

const BASE = '/api/v1/personas'

export const personasApi = {
  mine: () => http.get<RmPersona>(`${BASE}/me`),
  rm: (id: number) => http.get<RmPersona>(`${BASE}/rms/${id}`),
  team: () => http.get<{ items: TeamMember[] }>(`${BASE}/team`),
  override: (id: number, persona: Persona, reason: string, key: string) =>
    http.put<RmPersona>(`${BASE}/rms/${id}/override`, { persona, reason }, { headers: { 'Idempotency-Key': key } }),
  clearOverride: (id: number) => http.delete<RmPersona>(`${BASE}/rms/${id}/override`),
  cohorts: () => http.get<{ as_of: string; newcomers: CohortNewcomer[]; cohorts: Cohort[] }>(`${BASE}/cohorts`),
  thresholds: () => http.get<Thresholds>(`${BASE}/thresholds`),
  putThresholds: (value: Record<string, number>, version: number) =>
    http.put<Thresholds>(`${BASE}/thresholds`, { value, version }),
  notes: (id: number) => http.get<MentoringNotes>(`${BASE}/mentorships/${id}/notes`),
  addNote: (id: number, body: string, key: string) =>
    http.post<MentoringNote>(`${BASE}/mentorships/${id}/notes`, { body }, { headers: { 'Idempotency-Key': key } }),
}
