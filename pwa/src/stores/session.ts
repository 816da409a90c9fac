import { computed, ref } from 'vue'
import { defineStore } from 'pinia'
import { authApi } from '@/api/auth'
import { ApiError, NetworkError, setCsrfToken } from '@/api/http'
import type { MeResponse, User } from '@/api/types'
import {
  createSessionKey,
  loadRead,
  pick,
  requestPersistentStorage,
  saveRead,
  sessionKey,
  wipeOfflineData,
} from '@/offline/secure-store'
import { getOutbox, setSessionRenewer } from '@/offline/app-outbox'
import { disconnectSockets } from '@/composables/useSocket'
import { setDisplayZone } from '@/lib/format'

const USER_FIELDS = ['id', 'username', 'display_name', 'role', 'persona', 'branch', 'team'] as const

export const useSessionStore = defineStore('session', () => {
  const user = ref<User | null>(null)
  /** Signed in from the offline copy: the server has not confirmed the session yet. */
  const offline = ref(false)
  const persisted = ref(false)
  let booting: Promise<void> | null = null

  const signedIn = computed(() => user.value !== null)

  function accept(me: MeResponse): void {
    user.value = me.user
    offline.value = false
    setCsrfToken(me.csrf_token)
    setDisplayZone(me.timezone)
  }

  async function remember(me: MeResponse): Promise<void> {
    await saveRead('me', pick(me.user, USER_FIELDS))
  }

  /** Asks the server who we are; offline, trusts the sealed copy of the last answer. */
  function bootstrap(): Promise<void> {
    if (!booting) {
      booting = (async () => {
        try {
          const me = await authApi.me()
          const key = await sessionKey()
          if (!key || key.user_id !== me.user.id) {
            await resetLocalData(key ? key.user_id !== me.user.id : false)
            await createSessionKey(me.user.id)
          }
          accept(me)
          await remember(me)
        } catch (error) {
          if (error instanceof NetworkError) {
            const copy = await loadRead<User>('me')
            user.value = copy?.value ?? null
            offline.value = copy !== null
          } else if (error instanceof ApiError && error.status === 401) {
            user.value = null
          } else {
            throw error
          }
        }
      })().catch((error) => {
        booting = null
        throw error
      })
    }
    return booting
  }

  /** Renews the CSRF token (after coming back online, or after the server said 403 csrf). */
  async function refresh(): Promise<boolean> {
    try {
      const me = await authApi.me()
      accept(me)
      return true
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) expired()
      return false
    }
  }

  setSessionRenewer(refresh)

  async function resetLocalData(otherUser: boolean): Promise<void> {
    await wipeOfflineData()
    if (otherUser) await getOutbox().clear()
  }

  async function login(username: string, password: string): Promise<void> {
    const me = await authApi.login(username, password)
    const previous = await sessionKey()
    // Another RM's queued writes must never be sent in this RM's name.
    await resetLocalData(previous !== undefined && previous.user_id !== me.user.id)
    await createSessionKey(me.user.id)
    accept(me)
    await remember(me)
    booting = Promise.resolve()
    persisted.value = await requestPersistentStorage()
  }

  /** Signs out on the server (when reachable) and wipes every offline trace on this device. */
  async function logout(): Promise<void> {
    try {
      await authApi.logout()
    } catch (error) {
      if (!(error instanceof NetworkError) && !(error instanceof ApiError)) throw error
    }
    disconnectSockets()
    await getOutbox().clear()
    await wipeOfflineData()
    setCsrfToken(null)
    user.value = null
    offline.value = false
    booting = Promise.resolve()
  }

  /** The server ended the session (401): back to sign-in, keeping queued writes for the same RM. */
  function expired(): void {
    setCsrfToken(null)
    user.value = null
    offline.value = false
  }

  return { user, offline, persisted, signedIn, bootstrap, refresh, login, logout, expired }
})
