import { ApiError, NetworkError } from '@/api/http'
import { i18n } from '@/i18n'

/** A catalog string for a failed call: the problem `code`, never the server's English detail. */
export function errorText(err: unknown): string {
  const t = i18n.global.t as (key: string) => string
  if (err instanceof NetworkError) return t('app.networkError')
  if (err instanceof ApiError) {
    if (err.status === 404) return t('prospects.errors.not_found')
    const key = `prospects.errors.${err.code}`
    const text = t(key)
    if (text !== key) return text
  }
  return t('app.error')
}
