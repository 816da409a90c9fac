import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { fakeFetch, user } from './helpers'
import { useSessionStore } from '@/stores/session'
import { useOutboxStore } from '@/stores/outbox'
import { useCustomersStore } from '@/stores/customers'
import { getOutbox, sendItem } from '@/offline/app-outbox'
import { getCsrfToken, setCsrfToken } from '@/api/http'
import { loadRead, saveRead, sessionKey, wipeOfflineData } from '@/offline/secure-store'

beforeEach(async () => {
  setActivePinia(createPinia())
  vi.unstubAllGlobals()
  setCsrfToken(null)
  await getOutbox().clear()
  await wipeOfflineData()
})

const login = (id = 7) => ({
  method: 'POST',
  path: '/api/v1/auth/login',
  body: { user: user(id), csrf_token: `csrf-${id}` },
})

describe('session store', () => {
  it('signs in: keeps the CSRF token, creates a non-extractable session key, seals a copy of the user', async () => {
    fakeFetch([login()])
    const session = useSessionStore()
    await session.login('rm_7', 'demo1234')
    expect(session.user?.display_name).toBe('张伟')
    expect(getCsrfToken()).toBe('csrf-7')
    const key = await sessionKey()
    expect(key?.user_id).toBe(7)
    expect(key?.key.extractable).toBe(false)
    expect(key?.key.algorithm).toMatchObject({ name: 'AES-GCM', length: 256 })
    expect((await loadRead<{ display_name: string }>('me'))?.value.display_name).toBe('张伟')
  })

  it('starts offline from the sealed copy, and signs out when the server says 401', async () => {
    fakeFetch([login()])
    await useSessionStore().login('rm_7', 'x')

    setActivePinia(createPinia())
    fakeFetch([]) // every request fails: offline
    const offline = useSessionStore()
    await offline.bootstrap()
    expect(offline.user?.id).toBe(7)
    expect(offline.offline).toBe(true)

    setActivePinia(createPinia())
    fakeFetch([{ path: '/api/v1/me', status: 401, body: { status: 401, code: 'unauthorized' } }])
    const expired = useSessionStore()
    await expired.bootstrap()
    expect(expired.signedIn).toBe(false)
  })

  it('signs out: wipes the outbox, the key and every offline copy', async () => {
    const { calls } = fakeFetch([login(), { method: 'POST', path: '/api/v1/auth/logout', status: 204 }])
    const session = useSessionStore()
    await session.login('rm_7', 'x')
    await saveRead('customers::', { items: [{ id: 1 }], total: 1 })
    await getOutbox().enqueue({ method: 'POST', url: '/api/v1/notes', body: { body: 'x' } })
    await session.logout()
    expect(calls.find((c) => c.url === '/api/v1/auth/logout')?.headers['X-CSRF-Token']).toBe('csrf-7')
    expect(session.signedIn).toBe(false)
    expect(getCsrfToken()).toBeNull()
    expect(await sessionKey()).toBeUndefined()
    expect(await loadRead('customers::')).toBeNull()
    expect(await getOutbox().list()).toEqual([])
  })

  it('signs out locally even when the server cannot be reached', async () => {
    fakeFetch([login()])
    const session = useSessionStore()
    await session.login('rm_7', 'x')
    fakeFetch([])
    await session.logout()
    expect(session.signedIn).toBe(false)
    expect(await sessionKey()).toBeUndefined()
  })

  it("drops another RM's queued writes when a different RM signs in, keeps the same RM's", async () => {
    fakeFetch([login(7)])
    const session = useSessionStore()
    await session.login('rm_7', 'x')
    await getOutbox().enqueue({ method: 'POST', url: '/api/v1/notes', body: { body: 'mine' } })
    session.expired() // session timed out on the server
    fakeFetch([login(7)])
    await session.login('rm_7', 'x')
    expect(await getOutbox().list()).toHaveLength(1)
    session.expired()
    fakeFetch([login(8)])
    await session.login('rm_8', 'x')
    expect(await getOutbox().list()).toEqual([])
  })
})

describe('outbox store and sender', () => {
  it('sends the item id as Idempotency-Key with the CSRF header, and tracks the unsynced count', async () => {
    fakeFetch([login()])
    await useSessionStore().login('rm_7', 'x')
    const store = useOutboxStore()
    fakeFetch([]) // offline
    await store.enqueue({ method: 'POST', url: '/api/v1/notes', body: { body: 'hello' } })
    expect(store.unsyncedCount).toBe(1)
    await store.flush()
    expect(store.unsyncedCount).toBe(1)
    expect(store.items[0].attempts).toBe(1)

    fakeFetch([{ method: 'POST', path: '/api/v1/notes', status: 201, body: { id: 1 } }])
    await getOutbox().wakeUp()
    await store.refresh()
    expect(store.unsyncedCount).toBe(0)
  })

  it('fetches a CSRF token first when it has none (after an offline start)', async () => {
    const { calls } = fakeFetch([
      { path: '/api/v1/me', body: { user: user(), csrf_token: 'fresh' } },
      { method: 'POST', path: '/api/v1/notes', status: 201, body: { id: 2 } },
    ])
    useSessionStore() // registers the session renewer
    const item = await getOutbox().enqueue({ method: 'POST', url: '/api/v1/notes', body: { body: 'hi' } })
    const answer = await sendItem(item)
    expect(answer.status).toBe(201)
    const post = calls.find((c) => c.method === 'POST')!
    expect(post.headers['X-CSRF-Token']).toBe('fresh')
    expect(post.headers['Idempotency-Key']).toBe(item.id)
    expect(post.body).toEqual({ body: 'hi' })
  })

  it('reports failed items separately from pending ones', async () => {
    fakeFetch([
      login(),
      { method: 'POST', path: '/api/v1/notes', status: 422, body: { status: 422, title: 'Unprocessable Content', detail: 'bad', code: 'validation' } },
    ])
    await useSessionStore().login('rm_7', 'x')
    const store = useOutboxStore()
    await store.enqueue({ method: 'POST', url: '/api/v1/notes', body: { body: '' } })
    const result = await store.flush()
    expect(result.failed).toBe(1)
    expect(store.failedCount).toBe(1)
    expect(store.pendingCount).toBe(0)
    // the status and the code (shown through the catalog), never the server's English detail
    expect(store.failedItems[0].last_error).toBe('422 validation')
  })
})

describe('customers store', () => {
  const page = {
    items: [
      {
        id: 1, kind: 'individual', name: '张伟', industry_code: null, industry_name: null, size: null, ownership: null,
        region_code: '310000', region_name: '上海市', tier: 'A', gender: 'M', phone_masked: '138****5678',
        tags: ['代发'], owner: { id: 7, display_name: '王经理' }, updated_at: '2026-11-29T00:00:00Z', version: 3,
      },
    ],
    total: 1, page: 1, page_size: 20,
  }

  it('keeps an encrypted copy of masked list fields only, and shows it offline', async () => {
    fakeFetch([login(), { path: '/api/v1/customers', body: page }])
    await useSessionStore().login('rm_7', 'x')
    const store = useCustomersStore()
    await store.search('')
    expect(store.items).toHaveLength(1)
    expect(store.finished).toBe(true)
    const copy = await loadRead<{ items: Record<string, unknown>[] }>('customers::')
    expect(Object.keys(copy!.value.items[0]).sort()).toEqual(
      ['id', 'kind', 'name', 'industry_name', 'region_name', 'tier', 'tags', 'phone_masked', 'updated_at'].sort(),
    )

    fakeFetch([])
    await store.refresh()
    expect(store.error).toBeNull()
    expect(store.offlineSavedAt).not.toBeNull()
    expect(store.items[0].phone_masked).toBe('138****5678')
  })

  it('shows the error state offline when nothing was saved', async () => {
    fakeFetch([])
    const store = useCustomersStore()
    await store.search('zw')
    expect(store.items).toEqual([])
    expect(store.error).toBeTruthy()
  })

  it('sends the search and kind to the API', async () => {
    const { calls } = fakeFetch([{ path: '/api/v1/customers', body: { ...page, items: [] , total: 0 } }])
    await useCustomersStore().search('zw', 'individual')
    expect(calls[0].url).toBe('/api/v1/customers?q=zw&kind=individual&page=1&page_size=20')
  })
})
