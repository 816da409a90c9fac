import { vi } from 'vitest'

export interface Route {
  method?: string
  path: string | RegExp
  status?: number
  body?: unknown
  headers?: Record<string, string>
  error?: boolean
}

/** A fetch stand-in answering from a list of routes; records every call. */
export function fakeFetch(routes: Route[]) {
  const calls: Array<{ url: string; method: string; headers: Record<string, string>; body: unknown }> = []
  const fn = vi.fn(async (input: string, init: RequestInit = {}) => {
    const method = (init.method || 'GET').toUpperCase()
    const url = String(input)
    const headers = (init.headers || {}) as Record<string, string>
    calls.push({ url, method, headers, body: init.body ? JSON.parse(String(init.body)) : undefined })
    const path = url.split('?')[0]
    const route = routes.find(
      (r) => (r.method || 'GET') === method && (typeof r.path === 'string' ? r.path === path : r.path.test(path)),
    )
    if (!route || route.error) throw new TypeError('Failed to fetch')
    const status = route.status ?? 200
    return new Response(status === 204 ? null : JSON.stringify(route.body ?? {}), {
      status,
      headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json', ...route.headers },
    })
  })
  vi.stubGlobal('fetch', fn)
  return { fn, calls }
}

export const user = (id = 7, name = '张伟') => ({
  id,
  username: `rm_${id}`,
  display_name: name,
  role: 'rm',
  persona: 'general',
  branch: { id: 1, name: '上海分行' },
  team: null,
})
