import { http } from './http'
import type { MeResponse } from './types'

export const authApi = {
  login: (username: string, password: string) =>
    http.post<MeResponse>('/api/v1/auth/login', { username, password }, { quiet401: true }),
  logout: () => http.post<void>('/api/v1/auth/logout'),
  me: () => http.get<MeResponse>('/api/v1/me', { quiet401: true }),
}
