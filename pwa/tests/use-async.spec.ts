import { describe, expect, it } from 'vitest'
import { useAsync } from '@/composables/useAsync'
import { ApiError, NetworkError } from '@/api/http'

const tick = () => new Promise((r) => setTimeout(r, 0))

describe('useAsync', () => {
  it('loads, then reloads keeping the latest answer only', async () => {
    let n = 0
    const resolvers: Array<(v: number) => void> = []
    const state = useAsync(() => new Promise<number>((resolve) => resolvers.push(resolve)))
    expect(state.loading.value).toBe(true)
    const second = state.reload()
    resolvers[1](++n + 10) // the newer call answers first
    await second
    resolvers[0](99) // the stale answer arrives late and is dropped
    await tick()
    expect(state.data.value).toBe(11)
    expect(state.loading.value).toBe(false)
  })

  it('tells not-found from errors', async () => {
    const missing = useAsync(async () => {
      throw new ApiError({ status: 404, code: 'not-found' })
    })
    await tick()
    expect(missing.notFound.value).toBe(true)
    expect(missing.error.value).toBeNull()

    const offline = useAsync(async () => {
      throw new NetworkError()
    })
    await tick()
    expect(offline.notFound.value).toBe(false)
    expect(offline.error.value).toBeInstanceOf(NetworkError)
  })

  it('waits for reload() when not immediate', async () => {
    let calls = 0
    const state = useAsync(async () => ++calls, { immediate: false })
    await tick()
    expect(calls).toBe(0)
    expect(state.loading.value).toBe(false)
    await state.reload()
    expect(state.data.value).toBe(1)
  })
})
