import { http } from './http'
import type { CustomerDetail, CustomerKind, CustomerSummary, Page } from './types'

export interface CustomerQuery {
  q?: string
  kind?: CustomerKind | ''
  page?: number
  page_size?: number
  sort?: string
}

export const customersApi = {
  list: (query: CustomerQuery = {}, signal?: AbortSignal) =>
    http.get<Page<CustomerSummary>>('/api/v1/customers', { query: { ...query }, signal }),
  get: (id: number) => http.get<CustomerDetail>(`/api/v1/customers/${id}`),
}
