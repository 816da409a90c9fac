import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { router } from './router'
import { i18n, setLocale, storedLocale } from './i18n'
import { onUnauthorized } from './api/http'
import { onServerDisconnect } from './composables/useSocket'
import { useSessionStore } from './stores/session'
import { useOutboxStore } from './stores/outbox'
import './styles/base.css'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia).use(i18n)

const locale = storedLocale()
const ready = locale === 'zh-CN' ? Promise.resolve() : setLocale(locale)

onUnauthorized(() => {
  useSessionStore().expired()
  const current = router.currentRoute.value
  if (!current.meta.public) void router.replace({ name: 'login', query: { redirect: current.fullPath } })
})

// The server closed a live socket: if the session ended there, sign-in follows now, not at the next tap.
onServerDisconnect(async () => {
  const session = useSessionStore()
  if (!session.signedIn || (await session.refresh())) return
  const current = router.currentRoute.value
  if (!current.meta.public) void router.replace({ name: 'login', query: { redirect: current.fullPath } })
})

app.use(router)
void ready.finally(async () => {
  await router.isReady()
  app.mount('#app')
  const session = useSessionStore()
  if (session.signedIn) void useOutboxStore().start()
})
