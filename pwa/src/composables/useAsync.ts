// One loader for screens: loading / error / not-found around an async call, with reload. A 404 (or
// a colleague's object, which the server answers exactly like a missing one) is `notFound`, not an
// error; anything else is kept in `error` for <StateView> to put in words.
import { getCurrentInstance, onMounted, ref, shallowRef, type Ref, type ShallowRef } from 'vue'
import { ApiError } from '@/api/http'

export interface AsyncState<T> {
  data: ShallowRef<T | null>
  loading: Ref<boolean>
  error: ShallowRef<unknown>
  notFound: Ref<boolean>
  /** Runs the loader again; resolves once done (never rejects). */
  reload: () => Promise<void>
}

export interface UseAsyncOptions {
  /** Load on mount (default true); otherwise call reload(). */
  immediate?: boolean
  /** Keep the previous data while reloading (pull to refresh). Default true. */
  keep?: boolean
}

export function useAsync<T>(loader: () => Promise<T>, options: UseAsyncOptions = {}): AsyncState<T> {
  const data = shallowRef<T | null>(null)
  const loading = ref(options.immediate !== false)
  const error = shallowRef<unknown>(null)
  const notFound = ref(false)
  let generation = 0

  async function reload(): Promise<void> {
    const mine = ++generation
    loading.value = true
    error.value = null
    notFound.value = false
    if (options.keep === false) data.value = null
    try {
      const value = await loader()
      if (mine === generation) data.value = value
    } catch (exc) {
      if (mine !== generation) return
      if (exc instanceof ApiError && exc.status === 404) notFound.value = true
      else error.value = exc
    } finally {
      if (mine === generation) loading.value = false
    }
  }

  if (options.immediate !== false) {
    if (getCurrentInstance()) onMounted(reload)
    else void reload()
  }
  return { data, loading, error, notFound, reload }
}
