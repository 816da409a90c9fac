import { createRouter, createWebHistory } from 'vue-router'
import { useSessionStore } from '@/stores/session'
import { allowed, routes } from './routes'

export { allowed, collectRoutes, routes } from './routes'

export const router = createRouter({
  history: createWebHistory(),
  routes,
  // No scrollTo on the first navigation: it would force a synchronous layout of the page being mounted.
  scrollBehavior: (_to, from, saved) => saved ?? (from.matched.length ? { top: 0 } : false),
})

router.beforeEach(async (to) => {
  const session = useSessionStore()
  await session.bootstrap()
  if (!to.meta.public && !session.signedIn) {
    return { name: 'login', query: to.fullPath !== '/' ? { redirect: to.fullPath } : {} }
  }
  if (to.name === 'login' && session.signedIn) return { name: 'home' }
  if (!to.meta.public && !allowed(to.meta, session.user?.role)) return { name: 'home' }
  return true
})
