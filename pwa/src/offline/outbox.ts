// The offline outbox: every write that may happen offline is queued here first, in IndexedDB, and
// replayed in order. The item id is a UUID sent as the `Idempotency-Key`, so a replay after a lost
// answer cannot create a second record on the server.
//
// Rules: 2xx (first answer or an idempotent replay), or 409 `idempotency-applied` (the server wrote it
// but lost its answer in a restart) -> removed. Network error, 5xx, 408, 409 (the
// first request with this key is still running) and 429 -> kept, retried with exponential backoff,
// and later items wait behind it (order is kept). 401 or a CSRF 403 -> kept, the queue pauses until
// the session is back. Any other 4xx -> kept, marked failed, shown to the user (retry or discard);
// later items go on.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb'

export type OutboxStatus = 'pending' | 'failed'

export interface OutboxItem {
  /** UUID, also the Idempotency-Key. */
  id: string
  method: string
  url: string
  body: unknown
  created_at: string
  /** Insertion order (replay order). */
  seq: number
  attempts: number
  last_error: string | null
  status: OutboxStatus
  /** Epoch ms before which this item is not tried again. */
  next_attempt_at: number
  /** HTTP status of the failure that marked the item failed. */
  failed_status: number | null
  /** Retryable failures in a row since the network last came back: drives the backoff. */
  retry_streak?: number
}

export interface NewOutboxItem {
  method: string
  url: string
  body?: unknown
  id?: string
}

/** What the server answered. A sender throws (any error) when there was no answer at all. */
export interface SendResult {
  status: number
  detail?: string
  code?: string
}

/** What an item remembers of a refusal: the status and the problem code (shown through the catalog,
 *  never the server's English detail). */
export function describeAnswer(answer: SendResult): string {
  return `${answer.status} ${answer.code ?? ''}`.trim()
}

export type Sender = (item: OutboxItem) => Promise<SendResult>

export interface FlushResult {
  sent: number
  failed: number
  remaining: number
  /** Set when a retryable failure stopped the queue: try again after this many ms. */
  retryInMs: number | null
  /** Set when the queue stopped: the session has to be renewed first, or the device is offline. */
  paused: 'auth' | 'offline' | null
}

export interface OutboxOptions {
  send: Sender
  dbName?: string
  now?: () => number
  baseDelayMs?: number
  maxDelayMs?: number
  /** 0..1; the backoff is scaled by 0.75 + 0.25 * random() so tabs and devices spread out. */
  random?: () => number
  /** False while the device knows it is offline: nothing is tried (and no backoff grows) until `online`. */
  isOnline?: () => boolean
}

interface OutboxDB extends DBSchema {
  items: { key: string; value: OutboxItem; indexes: { seq: number } }
}

const STORE = 'items'
export const DEFAULT_DB_NAME = 'zhanye-outbox'

export function newId(): string {
  const c: Crypto = globalThis.crypto
  if (typeof c.randomUUID === 'function') return c.randomUUID()
  // randomUUID needs a secure context; getRandomValues does not
  const bytes = c.getRandomValues(new Uint8Array(16))
  bytes[6] = (bytes[6] & 0x0f) | 0x40
  bytes[8] = (bytes[8] & 0x3f) | 0x80
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** The server applied the first request with this key; only its answer was lost (a restart). */
export function wasApplied(result: SendResult): boolean {
  return result.status === 409 && result.code === 'idempotency-applied'
}

export function isRetryable(result: SendResult): boolean {
  return result.status >= 500 || [408, 409, 425, 429].includes(result.status)
}

export function needsSession(result: SendResult): boolean {
  return result.status === 401 || (result.status === 403 && result.code === 'csrf')
}

export class Outbox {
  private readonly opts: Required<OutboxOptions>
  private dbPromise: Promise<IDBPDatabase<OutboxDB>> | null = null
  private running: Promise<FlushResult> | null = null
  private listeners = new Set<() => void>()
  private timer: ReturnType<typeof setTimeout> | null = null
  private started = false
  private channel: BroadcastChannel | null = null
  private readonly onOnline = () => {
    void this.wakeUp()
  }

  constructor(options: OutboxOptions) {
    this.opts = {
      dbName: DEFAULT_DB_NAME,
      now: () => Date.now(),
      baseDelayMs: 1000,
      maxDelayMs: 60_000,
      random: Math.random,
      isOnline: () => typeof navigator === 'undefined' || navigator.onLine !== false,
      ...options,
    }
  }

  private db(): Promise<IDBPDatabase<OutboxDB>> {
    if (!this.dbPromise) {
      this.dbPromise = openDB<OutboxDB>(this.opts.dbName, 1, {
        upgrade(db) {
          const store = db.createObjectStore(STORE, { keyPath: 'id' })
          store.createIndex('seq', 'seq')
        },
        blocking: (_current, _next, event) => {
          // another tab wants to delete or upgrade the database: let it
          ;(event.target as IDBDatabase).close()
          this.dbPromise = null
        },
      })
    }
    return this.dbPromise
  }

  /** Backoff before attempt number `attempts + 1` (attempts >= 1). */
  backoff(attempts: number): number {
    const raw = Math.min(this.opts.maxDelayMs, this.opts.baseDelayMs * 2 ** Math.max(0, attempts - 1))
    return Math.round(raw * (0.75 + 0.25 * this.opts.random()))
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private changed(broadcast = true): void {
    this.listeners.forEach((fn) => fn())
    if (broadcast) this.channel?.postMessage('changed')
  }

  /** Queues a mutation. The same id twice is one item (the first one is kept). */
  async enqueue(input: NewOutboxItem): Promise<OutboxItem> {
    const db = await this.db()
    const tx = db.transaction(STORE, 'readwrite')
    const id = input.id || newId()
    const existing = await tx.store.get(id)
    if (existing) {
      await tx.done
      return existing
    }
    const last = await tx.store.index('seq').openCursor(null, 'prev')
    const item: OutboxItem = {
      id,
      method: input.method.toUpperCase(),
      url: input.url,
      body: input.body ?? null,
      created_at: new Date(this.opts.now()).toISOString(),
      seq: (last?.value.seq ?? 0) + 1,
      attempts: 0,
      last_error: null,
      status: 'pending',
      next_attempt_at: 0,
      failed_status: null,
    }
    await tx.store.add(item)
    await tx.done
    this.changed()
    return item
  }

  async list(): Promise<OutboxItem[]> {
    const db = await this.db()
    return db.getAllFromIndex(STORE, 'seq')
  }

  async get(id: string): Promise<OutboxItem | undefined> {
    return (await this.db()).get(STORE, id)
  }

  async counts(): Promise<{ pending: number; failed: number; total: number }> {
    const items = await this.list()
    const failed = items.filter((i) => i.status === 'failed').length
    return { pending: items.length - failed, failed, total: items.length }
  }

  /** Puts a failed (or waiting) item back in line for an immediate try. */
  async retry(id: string): Promise<void> {
    const db = await this.db()
    const item = await db.get(STORE, id)
    if (!item) return
    await db.put(STORE, { ...item, status: 'pending', next_attempt_at: 0, failed_status: null, retry_streak: 0 })
    this.changed()
    await this.flush()
  }

  async discard(id: string): Promise<void> {
    await (await this.db()).delete(STORE, id)
    this.changed()
  }

  async clear(): Promise<void> {
    await (await this.db()).clear(STORE)
    this.changed()
  }

  /** Sends what is due, in order. Concurrent calls share one run; tabs take turns via Web Locks. */
  flush(): Promise<FlushResult> {
    if (!this.running) {
      const run = () => this.flushOnce()
      const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined
      const job = locks ? locks.request('zhanye-outbox', run).then((r) => r) : run()
      this.running = job.finally(() => {
        this.running = null
      })
    }
    return this.running
  }

  private async flushOnce(): Promise<FlushResult> {
    const result: FlushResult = { sent: 0, failed: 0, remaining: 0, retryInMs: null, paused: null }
    const db = await this.db()
    const items = await db.getAllFromIndex(STORE, 'seq')
    if (!this.opts.isOnline()) {
      result.paused = 'offline'
      result.remaining = items.filter((i) => i.status === 'pending').length
      return result // the `online` event wakes the queue up
    }
    for (const item of items) {
      if (item.status === 'failed') continue
      const now = this.opts.now()
      if (item.next_attempt_at > now) {
        result.retryInMs = item.next_attempt_at - now
        break
      }
      let answer: SendResult | null = null
      let error = ''
      try {
        answer = await this.opts.send(item)
      } catch (exc) {
        error = (exc as Error)?.message || 'network error'
      }
      // The item may have been discarded or wiped (logout) while it was in flight.
      const current = await db.get(STORE, item.id)
      if (!current) continue
      if (answer && ((answer.status >= 200 && answer.status < 300) || wasApplied(answer))) {
        await db.delete(STORE, item.id)
        result.sent++
        this.changed()
        continue
      }
      const attempts = current.attempts + 1
      if (answer && needsSession(answer)) {
        await db.put(STORE, { ...current, attempts, last_error: describeAnswer(answer) })
        result.paused = 'auth'
        this.changed()
        break
      }
      if (!answer || isRetryable(answer)) {
        const retry_streak = (current.retry_streak ?? 0) + 1
        const delay = this.backoff(retry_streak)
        const last_error = answer ? describeAnswer(answer) : error
        await db.put(STORE, {
          ...current,
          attempts,
          retry_streak,
          last_error,
          next_attempt_at: this.opts.now() + delay,
        })
        result.retryInMs = delay
        this.changed()
        break
      }
      await db.put(STORE, {
        ...current,
        attempts,
        status: 'failed',
        failed_status: answer.status,
        last_error: describeAnswer(answer),
      })
      result.failed++
      this.changed()
    }
    result.remaining = (await db.getAllFromIndex(STORE, 'seq')).filter((i) => i.status === 'pending').length
    if (this.started) this.schedule(result.retryInMs)
    return result
  }

  private schedule(delay: number | null): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    if (delay !== null) this.timer = setTimeout(() => void this.flush(), Math.max(0, delay))
  }

  /** The network is back: waiting items are due now, and their backoff starts over. */
  async wakeUp(): Promise<FlushResult> {
    const db = await this.db()
    const tx = db.transaction(STORE, 'readwrite')
    for (const item of await tx.store.getAll()) {
      if (item.status === 'pending' && (item.next_attempt_at > 0 || item.retry_streak)) {
        await tx.store.put({ ...item, next_attempt_at: 0, retry_streak: 0 })
      }
    }
    await tx.done
    return this.flush()
  }

  /** Replays now and on every `online` event; keeps other tabs' counts fresh. */
  start(): Promise<FlushResult> {
    if (!this.started && typeof window !== 'undefined') {
      this.started = true
      window.addEventListener('online', this.onOnline)
      if (typeof BroadcastChannel !== 'undefined') {
        this.channel = new BroadcastChannel('zhanye-outbox')
        this.channel.onmessage = () => this.changed(false)
      }
    }
    this.started = true
    return this.flush()
  }

  stop(): void {
    if (typeof window !== 'undefined') window.removeEventListener('online', this.onOnline)
    this.channel?.close()
    this.channel = null
    this.schedule(null)
    this.started = false
  }
}
