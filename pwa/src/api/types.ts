import type { components } from './schema'

/** The API's response and request models, generated from the server's OpenAPI document. */
export type Schemas = components['schemas']

export type Role = 'rm' | 'team_lead' | 'risk_officer' | 'admin'
export type Persona = 'newcomer' | 'general' | 'excellent' | 'super' | 'veteran'

export interface NamedRef {
  id: number
  name: string
}

export interface User {
  id: number
  username: string
  display_name: string
  role: Role
  persona: Persona | null
  branch: NamedRef | null
  team: NamedRef | null
}

export interface MeResponse {
  user: User
  csrf_token: string
  /** The user's time zone (IANA), e.g. Asia/Shanghai: every time shown uses it. */
  timezone?: string
}

export interface Page<T> {
  items: T[]
  total: number
  page: number
  page_size: number
}

// Customers: generated from the OpenAPI document (`make api-types`).
export type CustomerKind = Schemas['CustomerKind']
export type CustomerSummary = Schemas['CustomerSummary']
export type CorporateProfile = Schemas['CorporatePublic']
export type IndividualProfile = Schemas['IndividualPublic']
export type Contact = Schemas['ContactPublic']
export type CustomerEvent = Schemas['CustomerEventPublic']
export type CustomerDetail = Schemas['CustomerDetail']
