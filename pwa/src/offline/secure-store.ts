// Offline copies of API reads. They hold only masked, minimal fields (the callers pick them), and are
// encrypted with AES-GCM under a per-session key that WebCrypto created non-extractable: the key
// object lives in IndexedDB but its bytes can never be read out. Created at sign-in, wiped at
// sign-out together with every copy.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb'

interface SessionKey {
  key: CryptoKey
  user_id: number
  created_at: string
}

interface SealedRecord {
  iv: Uint8Array
  data: ArrayBuffer
  saved_at: string
}

interface OfflineDB extends DBSchema {
  keys: { key: string; value: SessionKey }
  reads: { key: string; value: SealedRecord }
}

export const OFFLINE_DB_NAME = 'zhanye-offline'
const SESSION = 'session'
let dbPromise: Promise<IDBPDatabase<OfflineDB>> | null = null

function db(): Promise<IDBPDatabase<OfflineDB>> {
  if (!dbPromise) {
    dbPromise = openDB<OfflineDB>(OFFLINE_DB_NAME, 1, {
      upgrade(d) {
        d.createObjectStore('keys')
        d.createObjectStore('reads')
      },
    })
  }
  return dbPromise
}

export async function sessionKey(): Promise<SessionKey | undefined> {
  return (await db()).get('keys', SESSION)
}

/** A fresh key for this session; copies sealed under an older key are dropped. */
export async function createSessionKey(userId: number): Promise<void> {
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt'])
  const d = await db()
  const tx = d.transaction(['keys', 'reads'], 'readwrite')
  await tx.objectStore('reads').clear()
  await tx.objectStore('keys').put({ key, user_id: userId, created_at: new Date().toISOString() }, SESSION)
  await tx.done
}

export async function saveRead(name: string, value: unknown): Promise<boolean> {
  const record = await sessionKey()
  if (!record) return false
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const plain = new TextEncoder().encode(JSON.stringify(value))
  const data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, record.key, plain)
  await (await db()).put('reads', { iv, data, saved_at: new Date().toISOString() }, name)
  return true
}

export async function loadRead<T>(name: string): Promise<{ value: T; saved_at: string } | null> {
  const record = await sessionKey()
  if (!record) return null
  const sealed = await (await db()).get('reads', name)
  if (!sealed) return null
  try {
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: sealed.iv as Uint8Array<ArrayBuffer> },
      record.key,
      sealed.data,
    )
    return { value: JSON.parse(new TextDecoder().decode(plain)) as T, saved_at: sealed.saved_at }
  } catch {
    return null // sealed under another key
  }
}

/** Forgets one sealed copy. */
export async function dropRead(name: string): Promise<void> {
  await (await db()).delete('reads', name)
}

/** Forgets the key and every offline copy, and the service worker's caches of API reads. */
export async function wipeOfflineData(): Promise<void> {
  const d = await db()
  const tx = d.transaction(['keys', 'reads'], 'readwrite')
  await tx.objectStore('keys').clear()
  await tx.objectStore('reads').clear()
  await tx.done
  if (typeof caches !== 'undefined') {
    for (const name of await caches.keys()) {
      if (name.startsWith('api-')) await caches.delete(name)
    }
  }
}

/** Keeps only the listed fields of each object (offline copies hold what the list shows, no more). */
export function pick<T extends object, K extends keyof T>(value: T, fields: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>
  for (const field of fields) if (field in value) out[field] = value[field]
  return out
}

export async function requestPersistentStorage(): Promise<boolean> {
  if (typeof navigator === 'undefined' || !navigator.storage?.persist) return false
  try {
    if (await navigator.storage.persisted()) return true
    return await navigator.storage.persist()
  } catch {
    return false
  }
}
