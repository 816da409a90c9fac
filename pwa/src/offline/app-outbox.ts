// The app's one Outbox instance, sending through the HTTP client with the CSRF header and the
// item's id as Idempotency-Key.
import { getCsrfToken, isOfflineAnswer, NetworkError, problemOf, send } from '@/api/http'
import { Outbox, type OutboxItem, type SendResult } from './outbox'

let outbox: Outbox | null = null
let renewSession: (() => Promise<boolean>) | null = null

/** The session store registers how to fetch a fresh CSRF token (GET /api/v1/me). */
export function setSessionRenewer(fn: () => Promise<boolean>): void {
  renewSession = fn
}

function sendOnce(item: OutboxItem): Promise<Response> {
  return send(item.url, {
    method: item.method,
    body: item.body ?? undefined,
    headers: { 'Idempotency-Key': item.id },
  })
}

/** Sends one queued write. A 403 csrf (the session was renewed while offline, so the token we hold
 *  is stale) fetches a fresh token and resends at once with the same Idempotency-Key: the user never
 *  sees that transient refusal. */
export async function sendItem(item: OutboxItem): Promise<SendResult> {
  if (!getCsrfToken() && renewSession) await renewSession()
  let response = await sendOnce(item)
  if (isOfflineAnswer(response)) throw new NetworkError('offline')
  if (response.ok) return { status: response.status }
  let problem = await problemOf(response)
  if (response.status === 403 && problem.code === 'csrf' && renewSession && (await renewSession())) {
    response = await sendOnce(item)
    if (isOfflineAnswer(response)) throw new NetworkError('offline')
    if (response.ok) return { status: response.status }
    problem = await problemOf(response)
  }
  return { status: response.status, detail: problem.detail || problem.title, code: problem.code }
}

export function getOutbox(): Outbox {
  if (!outbox) outbox = new Outbox({ send: sendItem })
  return outbox
}
