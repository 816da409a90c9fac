import { ApiError } from '@/api/http'

const KNOWN = ['not-found', 'stale', 'case-closed', 'case-escalated', 'validation'] as const

/** The catalog key for an API failure: the UI never shows the server's English detail. */
export function errorKey(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 403) return 'conduct.errors.forbidden'
    if (error.status === 404) return 'conduct.errors.not-found'
    const code = error.code as (typeof KNOWN)[number] | undefined
    if (code && KNOWN.includes(code)) return `conduct.errors.${code}`
  }
  return 'conduct.errors.generic'
}

export function scoreColor(score: number): string {
  return score >= 60 ? '#d93026' : score >= 30 ? '#e37400' : '#188038'
}

export function newKey(): string {
  return crypto.randomUUID()
}
