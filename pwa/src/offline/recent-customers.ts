// The last RECENT_CUSTOMERS customers opened keep their (already masked) detail and 360 in the
// encrypted offline store, so a customer just opened can still be read without a network. Older
// copies are dropped; logout wipes them all with the session key.
import { NetworkError } from '@/api/http'
import { dropRead, loadRead, saveRead } from './secure-store'

export const RECENT_CUSTOMERS = 20
const INDEX = 'customers:recent'

async function touch(id: number): Promise<void> {
  const list = (await loadRead<number[]>(INDEX))?.value ?? []
  const next = [id, ...list.filter((x) => x !== id)]
  const evicted = next.splice(RECENT_CUSTOMERS)
  await saveRead(INDEX, next)
  for (const old of evicted) {
    await dropRead(`customer:${old}`)
    await dropRead(`customer360:${old}`)
  }
}

export interface WithCopy<T> {
  value: T
  /** When the copy shown was saved (null: fresh from the server). */
  savedAt: string | null
}

/** Loads `kind` of customer `id` from the server and seals a copy; offline, answers from the copy. */
export async function loadWithCopy<T>(kind: 'customer' | 'customer360', id: number, loader: () => Promise<T>): Promise<WithCopy<T>> {
  try {
    const value = await loader()
    try {
      if (await saveRead(`${kind}:${id}`, value)) await touch(id)
    } catch {
      /* storage full or unavailable: the screen still works online */
    }
    return { value, savedAt: null }
  } catch (exc) {
    if (!(exc instanceof NetworkError)) throw exc
    const copy = await loadRead<T>(`${kind}:${id}`)
    if (!copy) throw exc
    return { value: copy.value, savedAt: copy.saved_at }
  }
}
