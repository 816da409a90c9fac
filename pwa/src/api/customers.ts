import { http } from './http'
import type { CustomerDetail, CustomerKind, Schemas } from './types'

export interface CustomerQuery {
  q?: string
  kind?: CustomerKind | ''
  page?: number
  page_size?: number
  sort?: string
  /** A team lead narrows the list to one RM of the team. */
  owner_id?: number
}

export type RevealField = 'phone' | 'id_number'

export const customersApi = {
  list: (query: CustomerQuery = {}, signal?: AbortSignal) =>
    http.get<Schemas['CustomerPage']>('/api/v1/customers', { query: { ...query }, signal }),
  get: (id: number) => http.get<CustomerDetail>(`/api/v1/customers/${id}`),
  /** The unmasked value, for the owning RM; the server audits the reason and rate-limits reveals. */
  reveal: (id: number, field: RevealField, reason: string) =>
    http.post<Schemas['RevealResult']>(`/api/v1/customers/${id}/reveal`, { field, reason }),
}
