import { describe, expect, it, vi } from 'vitest'
import { setCsrfToken } from '@/api/http'
import { sendItem, setSessionRenewer } from '@/offline/app-outbox'
import type { OutboxItem } from '@/offline/outbox'

const item: OutboxItem = {
  id: 'k-1',
  seq: 1,
  method: 'POST',
  url: '/api/v1/notes',
  body: { body: '拜访' },
  created_at: 0,
  attempts: 0,
  next_attempt_at: 0,
  status: 'pending',
  last_error: null,
  failed_status: null,
} as unknown as OutboxItem

function answers(list: Array<{ status: number; body?: unknown }>) {
  const seen: Array<{ token: string | undefined; key: string | undefined }> = []
  vi.stubGlobal(
    'fetch',
    vi.fn(async (_url: string, init: RequestInit) => {
      const headers = init.headers as Record<string, string>
      seen.push({ token: headers['X-CSRF-Token'], key: headers['Idempotency-Key'] })
      const next = list.shift()!
      return new Response(JSON.stringify(next.body ?? {}), { status: next.status, headers: { 'Content-Type': 'application/json' } })
    }),
  )
  return seen
}

describe('the outbox after reconnecting', () => {
  it('renews a stale CSRF token and resends silently with the same key', async () => {
    setCsrfToken('stale')
    const seen = answers([
      { status: 403, body: { status: 403, code: 'csrf', detail: 'Missing or wrong X-CSRF-Token header.' } },
      { status: 201, body: { id: 5 } },
    ])
    const renew = vi.fn(async () => {
      setCsrfToken('fresh')
      return true
    })
    setSessionRenewer(renew)
    const result = await sendItem(item)
    expect(result).toEqual({ status: 201 })
    expect(renew).toHaveBeenCalledOnce()
    expect(seen).toEqual([
      { token: 'stale', key: 'k-1' },
      { token: 'fresh', key: 'k-1' },
    ])
  })

  it('reports a plain 403 by its code, without the server detail', async () => {
    setCsrfToken('ok')
    answers([{ status: 403, body: { status: 403, code: 'forbidden', detail: 'You may not do this.' } }])
    setSessionRenewer(async () => true)
    const result = await sendItem(item)
    expect(result.status).toBe(403)
    expect(result.code).toBe('forbidden')
  })
})
