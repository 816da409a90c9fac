import { createApp, watch } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { router } from './router'
import { i18n, setLocale, storedLocale } from './i18n'
import { onUnauthorized } from './api/http'
import { onServerDisconnect } from './composables/useSocket'
import { useSessionStore } from './stores/session'
import { useOutboxStore } from './stores/outbox'
import { loadHomeBody } from './features/home/bodies'
import { afterNextPaint } from './lib/afterPaint'
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

// Opening the home page: its role's part starts loading once the server names the role.
watch(
  () => useSessionStore().user?.role,
  (role) => {
    if (window.location.pathname === '/') loadHomeBody(role)
  },
  { flush: 'sync' },
)

app.use(router)
void ready.finally(async () => {
  await router.isReady()
  // The first render in a task of its own: evaluating the app's modules (compiling what runs) and
  // mounting were one long task, which a slow phone's first tap waits behind.
  await new Promise((resolve) => setTimeout(resolve, 0))
  app.mount('#app')
  // The offline outbox (its database, then a flush) after the first frame, not in the mount's task.
  afterNextPaint(() => {
    if (useSessionStore().signedIn) void useOutboxStore().start()
  })
})
