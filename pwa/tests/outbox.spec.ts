import { describe, expect, it, vi } from 'vitest'
import { Outbox, type OutboxItem, type SendResult } from '@/offline/outbox'

let dbSeq = 0

function setup(
  answers: Array<SendResult | Error> = [],
  options: { baseDelayMs?: number; maxDelayMs?: number; isOnline?: () => boolean } = {},
) {
  const clock = { now: 1_000_000 }
  const sent: OutboxItem[] = []
  const queue = [...answers]
  const send = vi.fn(async (item: OutboxItem): Promise<SendResult> => {
    sent.push(item)
    const next = queue.shift() ?? { status: 201 }
    if (next instanceof Error) throw next
    return next
  })
  const dbName = `outbox-test-${++dbSeq}`
  const make = () =>
    new Outbox({
      send,
      dbName,
      now: () => clock.now,
      random: () => 1,
      baseDelayMs: 1000,
      maxDelayMs: 60_000,
      isOnline: () => true,
      ...options,
    })
  return { outbox: make(), make, send, sent, clock, queue }
}

const note = (body: string) => ({ method: 'POST', url: '/api/v1/notes', body: { body } })

describe('outbox', () => {
  it('replays in the order items were queued and removes them on 2xx', async () => {
    const { outbox, sent } = setup()
    await outbox.enqueue(note('one'))
    await outbox.enqueue(note('two'))
    await outbox.enqueue(note('three'))
    const result = await outbox.flush()
    expect(sent.map((i) => (i.body as { body: string }).body)).toEqual(['one', 'two', 'three'])
    expect(result).toMatchObject({ sent: 3, failed: 0, remaining: 0, retryInMs: null })
    expect(await outbox.list()).toEqual([])
  })

  it('gives each item a UUID and keeps one item per key', async () => {
    const { outbox, sent } = setup()
    const first = await outbox.enqueue(note('a'))
    expect(first.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    const again = await outbox.enqueue({ ...note('a, edited'), id: first.id })
    expect(again).toEqual(first)
    expect(await outbox.counts()).toEqual({ pending: 1, failed: 0, total: 1 })
    await outbox.flush()
    expect(sent).toHaveLength(1)
    expect(sent[0].id).toBe(first.id)
  })

  it('counts an idempotent replay (200 for a key the server already saw) as delivered', async () => {
    const { outbox } = setup([{ status: 200 }])
    await outbox.enqueue(note('replayed'))
    expect((await outbox.flush()).sent).toBe(1)
    expect(await outbox.list()).toEqual([])
  })

  it('survives a reload: a new instance on the same database sees the queue', async () => {
    const { outbox, make, sent } = setup()
    await outbox.enqueue(note('before reload'))
    const reloaded = make()
    expect((await reloaded.list()).map((i) => i.url)).toEqual(['/api/v1/notes'])
    await reloaded.flush()
    expect(sent).toHaveLength(1)
  })

  it('retries 5xx with exponential backoff, keeping later items behind the failed one', async () => {
    const { outbox, sent, clock } = setup([{ status: 503 }, { status: 502 }, { status: 201 }, { status: 201 }])
    await outbox.enqueue(note('first'))
    await outbox.enqueue(note('second'))

    let result = await outbox.flush()
    expect(result.retryInMs).toBe(1000)
    expect(sent).toHaveLength(1) // 'second' waits: order is kept
    let [head] = await outbox.list()
    expect(head).toMatchObject({ attempts: 1, status: 'pending', last_error: '503' })

    result = await outbox.flush() // too early: nothing is sent
    expect(sent).toHaveLength(1)
    expect(result.retryInMs).toBe(1000)

    clock.now += 1000
    result = await outbox.flush()
    expect(result.retryInMs).toBe(2000) // doubled
    ;[head] = await outbox.list()
    expect(head.attempts).toBe(2)

    clock.now += 2000
    result = await outbox.flush()
    expect(result).toMatchObject({ sent: 2, remaining: 0, retryInMs: null })
    expect(sent.map((i) => (i.body as { body: string }).body)).toEqual(['first', 'first', 'first', 'second'])
  })

  it('treats a network error like a 5xx and caps the backoff', async () => {
    const { outbox } = setup([], { maxDelayMs: 5000 })
    expect([1, 2, 3, 4, 5, 6].map((n) => outbox.backoff(n))).toEqual([1000, 2000, 4000, 5000, 5000, 5000])
    const { outbox: other, clock } = setup([new TypeError('Failed to fetch'), { status: 201 }])
    await other.enqueue(note('offline'))
    const result = await other.flush()
    expect(result.retryInMs).toBe(1000)
    expect((await other.list())[0].last_error).toBe('Failed to fetch')
    clock.now += 1000
    expect((await other.flush()).sent).toBe(1)
  })

  it('jitters the backoff down to three quarters at most', () => {
    const outbox = new Outbox({ send: vi.fn(), dbName: 'jitter', random: () => 0 })
    expect(outbox.backoff(3)).toBe(3000)
  })

  it('retries 409 (the first request with this key is still running)', async () => {
    const { outbox } = setup([{ status: 409, code: 'idempotency-in-progress' }])
    await outbox.enqueue(note('busy'))
    const result = await outbox.flush()
    expect(result.retryInMs).toBe(1000)
    expect((await outbox.list())[0].status).toBe('pending')
  })

  it('counts 409 idempotency-applied (written, answer lost in a restart) as delivered, not as a failure', async () => {
    const { outbox, sent } = setup([{ status: 409, code: 'idempotency-applied' }, { status: 201 }])
    await outbox.enqueue(note('applied'))
    await outbox.enqueue(note('next'))
    const result = await outbox.flush()
    expect(result.sent).toBe(2)
    expect(result.failed).toBe(0)
    expect(sent).toHaveLength(2)
    expect(await outbox.list()).toEqual([])
  })

  it('keeps a 4xx item as failed, surfaces it, and goes on with the next items', async () => {
    const { outbox, sent } = setup([{ status: 422, detail: 'Some fields are invalid.', code: 'validation' }, { status: 201 }])
    const bad = await outbox.enqueue(note(''))
    await outbox.enqueue(note('good'))
    const result = await outbox.flush()
    expect(result).toMatchObject({ sent: 1, failed: 1, remaining: 0 })
    const items = await outbox.list()
    expect(items).toHaveLength(1)
    expect(items[0]).toMatchObject({
      id: bad.id,
      status: 'failed',
      failed_status: 422,
      last_error: '422 validation',
    })
    expect(await outbox.counts()).toEqual({ pending: 0, failed: 1, total: 1 })
    // a failed item is not re-sent by later flushes...
    await outbox.flush()
    expect(sent).toHaveLength(2)
  })

  it('lets the user retry or discard a failed item', async () => {
    const { outbox, sent } = setup([{ status: 400 }, { status: 201 }])
    const item = await outbox.enqueue(note('x'))
    await outbox.flush()
    await outbox.retry(item.id)
    expect(sent).toHaveLength(2)
    expect(await outbox.list()).toEqual([])

    const { outbox: other } = setup([{ status: 404 }])
    const gone = await other.enqueue(note('y'))
    await other.flush()
    await other.discard(gone.id)
    expect(await other.list()).toEqual([])
  })

  it('pauses on 401 or a CSRF 403 without marking the item failed', async () => {
    const { outbox, sent } = setup([{ status: 401 }, { status: 403, code: 'csrf' }, { status: 201 }, { status: 201 }])
    await outbox.enqueue(note('a'))
    await outbox.enqueue(note('b'))
    expect((await outbox.flush()).paused).toBe('auth')
    expect((await outbox.flush()).paused).toBe('auth')
    expect(sent).toHaveLength(2)
    expect((await outbox.list()).every((i) => i.status === 'pending')).toBe(true)
    expect((await outbox.flush()).sent).toBe(2)
  })

  it('a plain 403 (not allowed) is a failure the user must see', async () => {
    const { outbox } = setup([{ status: 403, code: 'forbidden' }])
    await outbox.enqueue(note('nope'))
    expect((await outbox.flush()).failed).toBe(1)
  })

  it('shares one run between concurrent flushes (no double send)', async () => {
    const { outbox, send } = setup()
    await outbox.enqueue(note('once'))
    await Promise.all([outbox.flush(), outbox.flush(), outbox.flush()])
    expect(send).toHaveBeenCalledTimes(1)
  })

  it('wakeUp (the online event) makes waiting items due at once', async () => {
    const { outbox, sent } = setup([new Error('offline'), { status: 201 }])
    await outbox.enqueue(note('wake'))
    await outbox.flush()
    expect(sent).toHaveLength(1)
    const result = await outbox.wakeUp()
    expect(result.sent).toBe(1)
  })

  it('tries nothing while the device is offline, and backs off from scratch once it is back', async () => {
    const net = { online: false }
    const { outbox, sent, clock } = setup([new Error('offline'), { status: 503 }, { status: 201 }], {
      isOnline: () => net.online,
    })
    await outbox.enqueue(note('written in a lift'))
    expect(await outbox.flush()).toMatchObject({ paused: 'offline', remaining: 1, retryInMs: null })
    expect(sent).toHaveLength(0)
    expect((await outbox.list())[0].attempts).toBe(0)

    net.online = true // flaky network: the first try still fails, then the server is briefly down
    expect((await outbox.flush()).retryInMs).toBe(1000)
    clock.now += 1000
    expect((await outbox.flush()).retryInMs).toBe(2000)
    const result = await outbox.wakeUp() // the `online` event: due now, streak reset
    expect(result.sent).toBe(1)
    expect(sent).toHaveLength(3)
  })

  it('restarts the backoff at the base delay after the network comes back', async () => {
    const { outbox } = setup([new Error('x'), new Error('x'), new Error('x'), { status: 503 }])
    await outbox.enqueue(note('n'))
    for (let i = 0; i < 3; i++) await outbox.wakeUp()
    // three network failures, each followed by an `online` event: the 503 after them waits 1 s, not 8 s
    const result = await outbox.wakeUp()
    expect(result.retryInMs).toBe(1000)
    const [item] = await outbox.list()
    expect(item).toMatchObject({ attempts: 4, retry_streak: 1, last_error: '503' })
  })

  it('notifies subscribers on every change', async () => {
    const { outbox } = setup()
    const listener = vi.fn()
    outbox.subscribe(listener)
    await outbox.enqueue(note('n'))
    await outbox.flush()
    expect(listener).toHaveBeenCalledTimes(2)
  })

  it('does not resend an item that was wiped while in flight', async () => {
    const clock = { now: 0 }
    const holder: { outbox?: Outbox } = {}
    const send = vi.fn(async () => {
      await holder.outbox!.clear()
      return { status: 503 }
    })
    const outbox = (holder.outbox = new Outbox({ send, dbName: 'wiped-in-flight', now: () => clock.now }))
    await outbox.enqueue(note('wiped'))
    const result = await outbox.flush()
    expect(result).toMatchObject({ sent: 0, remaining: 0, retryInMs: null })
  })
})
