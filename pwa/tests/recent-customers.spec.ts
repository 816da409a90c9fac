import { beforeEach, describe, expect, it } from 'vitest'
import { NetworkError } from '@/api/http'
import { createSessionKey, loadRead, wipeOfflineData } from '@/offline/secure-store'
import { loadWithCopy, RECENT_CUSTOMERS } from '@/offline/recent-customers'

const offline = async (): Promise<never> => {
  throw new NetworkError('offline')
}

beforeEach(async () => {
  await wipeOfflineData()
  await createSessionKey(7)
})

describe('recently opened customers offline', () => {
  it('answers from the sealed copy when the network is gone', async () => {
    const fresh = await loadWithCopy('customer', 5, async () => ({ id: 5, name: '上海星河科技', phone_masked: '138****5678' }))
    expect(fresh.savedAt).toBeNull()
    const copy = await loadWithCopy('customer', 5, offline)
    expect(copy.value).toEqual({ id: 5, name: '上海星河科技', phone_masked: '138****5678' })
    expect(copy.savedAt).not.toBeNull()
    // never opened: offline stays an error
    await expect(loadWithCopy('customer', 6, offline)).rejects.toBeInstanceOf(NetworkError)
  })

  it('keeps only the last N customers, detail and 360 alike', async () => {
    await loadWithCopy('customer360', 1, async () => ({ profile: { id: 1 } }))
    for (let id = 1; id <= RECENT_CUSTOMERS + 1; id += 1) await loadWithCopy('customer', id, async () => ({ id }))
    expect(await loadRead('customer:1')).toBeNull()
    expect(await loadRead('customer360:1')).toBeNull()
    expect((await loadRead<{ id: number }>('customer:2'))?.value.id).toBe(2)
    expect((await loadRead<number[]>('customers:recent'))?.value.length).toBe(RECENT_CUSTOMERS)
  })

  it('is wiped with the session key at logout', async () => {
    await loadWithCopy('customer', 9, async () => ({ id: 9 }))
    await wipeOfflineData()
    await createSessionKey(7)
    await expect(loadWithCopy('customer', 9, offline)).rejects.toBeInstanceOf(NetworkError)
  })
})
