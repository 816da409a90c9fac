import { readonly, ref } from 'vue'

const online = ref(typeof navigator === 'undefined' ? true : navigator.onLine)
let listening = false

/** navigator.onLine as a reactive value, shared by the whole app. */
export function useNetwork() {
  if (!listening && typeof window !== 'undefined') {
    listening = true
    window.addEventListener('online', () => (online.value = true))
    window.addEventListener('offline', () => (online.value = false))
  }
  return { online: readonly(online) }
}
