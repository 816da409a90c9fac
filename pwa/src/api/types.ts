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

export type CustomerKind = 'corporate' | 'individual'

export interface CustomerSummary {
  id: number
  kind: CustomerKind
  name: string
  industry_code: string | null
  industry_name: string | null
  size: string | null
  ownership: string | null
  region_code?: string | null
  region_name: string | null
  tier: string
  gender?: string | null
  phone_masked?: string | null
  tags: string[]
  owner?: { id: number; display_name: string }
  updated_at: string
  version: number
}

export interface CorporateProfile {
  credit_code?: string | null
  short_name?: string | null
  employees?: number | null
  main_products?: string | null
  address?: string | null
  [field: string]: unknown
}

export interface IndividualProfile {
  id_number_masked?: string | null
  birthday?: string | null
  age?: number | null
  occupation?: string | null
  employer?: string | null
  risk_appetite?: string | null
  interests?: string[]
}

export interface Contact {
  id: number
  name: string
  title?: string | null
  phone_masked?: string | null
  [field: string]: unknown
}

export interface CustomerEvent {
  id: number
  kind?: string
  title?: string
  occurred_on?: string
  [field: string]: unknown
}

export interface CustomerDetail extends CustomerSummary {
  corporate?: CorporateProfile | null
  individual?: IndividualProfile | null
  contacts?: Contact[]
  events?: CustomerEvent[]
}

