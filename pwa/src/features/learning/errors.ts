import { ApiError, NetworkError } from '@/api/http'

/** The catalog key for an error: the problem's `code`, never the server's English detail. */
export function errorKey(exc: unknown): string {
  if (exc instanceof NetworkError) return 'learning.errors.offline'
  if (exc instanceof ApiError) {
    const code = (exc.code ?? '').replace(/-/g, '_')
    if (['not_found', 'forbidden', 'helper_limit', 'task_ended', 'stale_version', 'validation'].includes(code))
      return `learning.errors.${code}`
  }
  return 'app.error'
}
