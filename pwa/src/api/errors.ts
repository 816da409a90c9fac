// The one place that puts a failed request into the user's words: a problem's `code` (else its
// status) → the catalog. The server's English `detail` is never shown.
import { i18n } from '@/i18n'
import type { Problem } from './http'

function translate(key: string): string | null {
  const g = i18n.global as unknown as { te: (k: string) => boolean; t: (k: string) => string }
  return g.te(key) ? g.t(key) : null
}

export function problemMessage(problem: Pick<Problem, 'status' | 'code'>): string {
  if (problem.code) {
    const byCode = translate(`problems.byCode.${problem.code}`)
    if (byCode) return byCode
  }
  return translate(`problems.byStatus.${problem.status}`) ?? translate('problems.byStatus.other') ?? `HTTP ${problem.status}`
}

/** Any thrown value in words: an ApiError by its code, a lost network, else a generic failure. */
export function errorMessage(error: unknown): string {
  const e = error as { name?: string; problem?: Problem }
  if (e?.name === 'ApiError' && e.problem) return problemMessage(e.problem)
  if (e?.name === 'NetworkError') return translate('app.networkError') ?? 'Network error'
  return translate('app.error') ?? 'Error'
}

/** Field errors keyed by field, each in words (the server's message is English). */
export function fieldErrors(problem: Problem | undefined): Record<string, string> {
  const text = translate('problems.field') ?? ''
  return Object.fromEntries((problem?.errors ?? []).map((e) => [e.field ?? '', text]))
}
