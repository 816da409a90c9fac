// The one HTTP client: same-origin JSON with cookies, the CSRF header on every mutating call, and
// RFC 9457 problem details turned into ApiError (whose message is the user's words, src/api/errors.ts). Typed modules (auth, customers, notes) sit on top.

import { problemMessage } from './errors'

export interface FieldError {
  field: string
  message: string
}

export interface Problem {
  type?: string
  title?: string
  status: number
  detail?: string
  code?: string
  errors?: FieldError[]
  [extra: string]: unknown
}

/** A response the server answered with an error status. */
export class ApiError extends Error {
  readonly status: number
  readonly problem: Problem
  readonly headers: Headers | null

  constructor(problem: Problem, headers: Headers | null = null) {
    // The message is the catalog's words for the code, never the server's English detail.
    super(problemMessage(problem))
    this.name = 'ApiError'
    this.status = problem.status
    this.problem = problem
    this.headers = headers
  }

  get code(): string | undefined {
    return this.problem.code
  }
}

/** The request never got an answer (offline, DNS, connection reset, the service worker's offline 503). */
export class NetworkError extends Error {
  constructor(message = 'network') {
    super(message)
    this.name = 'NetworkError'
  }
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
let csrfToken: string | null = null
const unauthorizedListeners = new Set<() => void>()

export function setCsrfToken(token: string | null): void {
  csrfToken = token
}

export function getCsrfToken(): string | null {
  return csrfToken
}

/** Called when any request answers 401 (the session ended on the server). */
export function onUnauthorized(listener: () => void): () => void {
  unauthorizedListeners.add(listener)
  return () => unauthorizedListeners.delete(listener)
}

export interface RequestOptions {
  method?: string
  body?: unknown
  query?: Record<string, string | number | boolean | null | undefined>
  headers?: Record<string, string>
  signal?: AbortSignal
  /** Do not broadcast a 401 (the sign-in call itself, the start-up probe). */
  quiet401?: boolean
}

export function buildUrl(path: string, query?: RequestOptions['query']): string {
  if (!query) return path
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value))
  }
  const qs = params.toString()
  return qs ? `${path}?${qs}` : path
}

/** Sends one request and returns the raw Response (or throws NetworkError). No status handling. */
export async function send(path: string, options: RequestOptions = {}): Promise<Response> {
  const method = (options.method || 'GET').toUpperCase()
  const headers: Record<string, string> = { Accept: 'application/json', ...options.headers }
  let body: BodyInit | undefined
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(options.body)
  }
  if (MUTATING.has(method) && csrfToken && !headers['X-CSRF-Token']) headers['X-CSRF-Token'] = csrfToken
  try {
    return await fetch(buildUrl(path, options.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
      signal: options.signal,
    })
  } catch (error) {
    if ((error as Error)?.name === 'AbortError') throw error
    throw new NetworkError((error as Error)?.message)
  }
}

export async function problemOf(response: Response): Promise<Problem> {
  let problem: Problem = { status: response.status, title: response.statusText }
  try {
    const data = await response.json()
    if (data && typeof data === 'object') problem = { ...data, status: response.status }
  } catch {
    /* not JSON: keep the status line */
  }
  return problem
}

/** True for the service worker's "no network and nothing cached" answer. */
export function isOfflineAnswer(response: Response): boolean {
  return response.status === 503 && response.headers.get('X-Zhanye-Offline') === '1'
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(path, options)
  if (isOfflineAnswer(response)) throw new NetworkError('offline')
  if (!response.ok) {
    if (response.status === 401 && !options.quiet401) unauthorizedListeners.forEach((fn) => fn())
    throw new ApiError(await problemOf(response), response.headers)
  }
  if (response.status === 204) return undefined as T
  const type = response.headers.get('Content-Type') || ''
  return (type.includes('json') ? await response.json() : await response.text()) as T
}

export const http = {
  get: <T>(path: string, options: Omit<RequestOptions, 'method' | 'body'> = {}) =>
    request<T>(path, { ...options, method: 'GET' }),
  post: <T>(path: string, body?: unknown, options: RequestOptions = {}) =>
    request<T>(path, { ...options, method: 'POST', body }),
  put: <T>(path: string, body?: unknown, options: RequestOptions = {}) =>
    request<T>(path, { ...options, method: 'PUT', body }),
  patch: <T>(path: string, body?: unknown, options: RequestOptions = {}) =>
    request<T>(path, { ...options, method: 'PATCH', body }),
  delete: <T>(path: string, options: RequestOptions = {}) => request<T>(path, { ...options, method: 'DELETE' }),
}
