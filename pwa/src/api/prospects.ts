// Prospecting (智能获客) on the customer map (客户地图): scored prospects, their reasons, claims,
// the offline base map; for team leads coverage, for admins model versions and registry uploads.
import { http } from './http'
import type { Schemas } from './types'

export type Size = 'large' | 'medium' | 'small' | 'micro'

export interface ProspectSummary {
  id: number
  name: string
  industry_code: string | null
  industry: string | null
  size: Size | null
  region_code: string | null
  region: string | null
  lat: number | null
  lng: number | null
  score: number | null
  claimed_by_me: boolean
  distance_km: number | null
}

export interface PathStep {
  kind: 'prospect' | 'customer'
  name: string
  via: string | null
}

export interface ProspectDetail extends ProspectSummary {
  credit_code: string | null
  ownership: string | null
  registered_capital_cents: number | null
  founded_on: string | null
  address: string | null
  park: string | null
  claimed_until: string | null
  sources: Record<string, { source: string; at: string }>
  model_id: number | null
  reasons: {
    factors: { text: string; weight: number }[]
    similar_customers: { name: string; mine: boolean; id: number | null; industry: string | null; size: string | null; region: string | null }[]
    path: PathStep[] | null
    path_text: string | null
  }
  activities: { kind: string; at: string; note: string | null }[]
  version: number
}

export interface ProspectFilters {
  industry?: string
  size?: Size | ''
  min_score?: number | null
  near?: string | null
  mine?: boolean
}

export interface MapPoints {
  customers: { id: number; name: string; lat: number; lng: number }[]
  prospects: { id: number; name: string; lat: number; lng: number; score: number | null; industry_code: string | null; size: Size | null; mine: boolean }[]
  model_id: number | null
  tile_url: string | null
}

export type CoverageRow = Schemas['CoverageRegion']

export type ModelVersion = Schemas['ModelVersion']

export type GeoJson = { type: 'FeatureCollection'; features: unknown[] }

export interface ImportRowError {
  line: number | null
  field: string | null
  reason: string
  code?: string
  page?: number | null // a paged registry API's page
}

export interface ProspectImport {
  id: number
  source_id: number
  kind: 'file' | 'fetch'
  filename: string
  status: 'queued' | 'running' | 'done' | 'failed'
  rows: number
  processed: number
  created: number
  updated: number
  unchanged: number
  merged: number
  errors: ImportRowError[]
  error_count: number
  created_at: string
  finished_at: string | null
  already_imported?: boolean
}

/** An import as the list shows it: its errors are fetched with the import itself. */
export type ProspectImportSummary = Omit<ProspectImport, 'errors'>

const key = () => ({ headers: { 'Idempotency-Key': crypto.randomUUID() } })

export const prospectsApi = {
  list: (filters: ProspectFilters & { limit?: number; offset?: number }) =>
    http.get<{ items: ProspectSummary[]; has_more: boolean; model_id: number | null }>('/api/v1/prospects', {
      query: { ...filters, mine: filters.mine || undefined },
    }),
  map: (filters: ProspectFilters) =>
    http.get<MapPoints>('/api/v1/prospects/map', { query: { ...filters, mine: filters.mine || undefined } }),
  baseMap: () => http.get<GeoJson>('/api/v1/prospects/basemap'),
  get: (id: number) => http.get<ProspectDetail>(`/api/v1/prospects/${id}`),
  claim: (id: number) => http.post<{ id: number; claimed_until: string }>(`/api/v1/prospects/${id}/claim`, undefined, key()),
  release: (id: number) => http.post<{ id: number }>(`/api/v1/prospects/${id}/release`, undefined, key()),
  activity: (id: number, kind: 'visit_planned' | 'visited' | 'shared' | 'war_room' | 'note', note?: string, at?: string) =>
    http.post<{ id: number }>(`/api/v1/prospects/${id}/activities`, { kind, note, at }, key()),
  coverage: () => http.get<{ items: CoverageRow[]; team_size: number }>('/api/v1/prospects/coverage'),
  models: () => http.get<{ items: ModelVersion[] }>('/api/v1/prospects/models'),
  train: (seeds_kind: 'default' | 'best_revenue' | 'customers', customer_ids: number[] = []) =>
    http.post<{ id: number; status: string }>('/api/v1/prospects/models', { seeds_kind, customer_ids }, key()),
  imports: (limit = 20, offset = 0) =>
    http.get<{ items: ProspectImportSummary[]; has_more: boolean }>('/api/v1/prospects/imports', {
      query: { limit, offset },
    }),
  getImport: (id: number) => http.get<ProspectImport>(`/api/v1/prospects/imports/${id}`),
  uploadImport: (source_id: number, filename: string, content_base64: string) =>
    http.post<ProspectImport>('/api/v1/prospects/imports', { source_id, filename, content_base64 }, key()),
  fetchImport: (source_id: number) => http.post<ProspectImport>('/api/v1/prospects/imports/fetch', { source_id }, key()),
}
