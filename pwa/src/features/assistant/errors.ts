import { ApiError, NetworkError } from '@/api/http'

/** The catalog key for an error: the problem's `code`, never the server's English detail. */
export function errorKey(exc: unknown): string {
  if (exc instanceof NetworkError) return 'assistant.errors.offline'
  if (exc instanceof ApiError) {
    const code = (exc.code ?? '').replace('-', '_') // the server's not-found is the catalog's not_found
    if (['not_found', 'forbidden', 'recommender_not_trained', 'validation', 'offline'].includes(code))
      return `assistant.errors.${code}`
  }
  return 'app.error'
}
