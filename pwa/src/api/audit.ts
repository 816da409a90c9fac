// The risk officer's audit search: who did what, when and from where; export as CSV.
import { buildUrl, http } from './http'
import type { Page } from './types'

export interface AuditEntry {
  id: number
  at: string
  actor_id: number | null
  actor_name: string | null
  action: string
  object_type: string | null
  object_id: string | null
  ip: string | null
  detail: Record<string, unknown>
}

export interface AuditFilters {
  actor_id?: number
  action?: string
  object_type?: string
  object_id?: string
  ip?: string
  since?: string
  until?: string
}

export const auditApi = {
  search: (filters: AuditFilters, page = 1, page_size = 30) =>
    http.get<Page<AuditEntry>>('/api/v1/audit', { query: { ...filters, page, page_size } }),
  exportUrl: (filters: AuditFilters) => buildUrl('/api/v1/audit/export', { ...filters }),
}
