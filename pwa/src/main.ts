import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { router } from './router'
import { i18n, setLocale, storedLocale } from './i18n'
import { onUnauthorized } from './api/http'
import { onServerDisconnect } from './composables/useSocket'
import { useSessionStore } from './stores/session'
import { useOutboxStore } from './stores/outbox'
import { zoneParts } from './lib/format'
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

// Ask the server who we are now (the router's guard awaits this same request), and while it is in
// flight pay for the page's first date formatter: it loads the browser's time-zone data, tens of
// milliseconds on a slow phone that would otherwise land in the first render.
void useSessionStore()
  .bootstrap()
  .catch(() => undefined)
zoneParts(Date.now())

app.use(router)
void ready.finally(async () => {
  await router.isReady()
  app.mount('#app')
  const session = useSessionStore()
  if (session.signedIn) void useOutboxStore().start()
})
