// The administrator's API: users, teams, the pool's claim policy, knowledge and mirror weights.
import { http } from './http'
import type { NamedRef, Page, Persona, Role, User } from './types'

export interface AdminUser extends User {
  is_active: boolean
  qualifications: string[]
}

export interface AdminTeam {
  id: number
  name: string
  branch: NamedRef
}

export interface UserCreateBody {
  username: string
  display_name: string
  password: string
  role: Role
  team_id?: number | null
  branch_id?: number | null
  persona?: Persona | null
  qualifications?: string[]
}

export interface UserUpdateBody {
  display_name?: string
  is_active?: boolean
  role?: Role
  team_id?: number | null
  persona?: Persona | null
  qualifications?: string[]
}

export interface ClaimPolicy {
  require_qualification: boolean
  max_open_claims: number
  priority_window_minutes: number
  recycle_days: Record<string, number>
  originator_share_bp: Record<string, number>
  updated_at: string | null
}

export interface WorkbenchConfig {
  name: 'knowledge' | 'mirror'
  version: number
  overrides: Record<string, unknown>
  effective: unknown
}

const once = () => ({ 'Idempotency-Key': crypto.randomUUID() })

export const adminApi = {
  users: (query: { q?: string; role?: Role | ''; page?: number; page_size?: number } = {}) =>
    http.get<Page<AdminUser>>('/api/v1/admin/users', { query: { ...query } }),
  teams: () => http.get<{ items: AdminTeam[] }>('/api/v1/admin/teams'),
  createUser: (body: UserCreateBody) => http.post<AdminUser>('/api/v1/admin/users', body, { headers: once() }),
  updateUser: (id: number, body: UserUpdateBody) => http.patch<AdminUser>(`/api/v1/admin/users/${id}`, body),
  policy: () => http.get<ClaimPolicy>('/api/v1/opportunities/policy'),
  putPolicy: (body: Partial<Omit<ClaimPolicy, 'updated_at'>>) =>
    http.put<ClaimPolicy>('/api/v1/opportunities/policy', body),
  config: (name: 'knowledge' | 'mirror') => http.get<WorkbenchConfig>(`/api/v1/admin/workbench-config/${name}`),
  putConfig: (name: 'knowledge' | 'mirror', value: Record<string, unknown>, version: number) =>
    http.put<WorkbenchConfig>(`/api/v1/admin/workbench-config/${name}`, { value, version }),
}
