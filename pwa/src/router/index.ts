import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { useSessionStore } from '@/stores/session'
import HomeView from '@/views/HomeView.vue'
import { workbenchRoutes } from '@/features/workbench/routes'
import { notebookRoutes } from '@/features/notebook/routes'
import { intelRoutes } from '@/features/intel/routes'
import { opportunityRoutes } from '@/features/opportunities/routes'
import { conductRoutes } from '@/features/conduct/routes'
import { assistantRoutes } from '@/features/assistant/routes'

declare module 'vue-router' {
  interface RouteMeta {
    public?: boolean
    tab?: 'home' | 'customers' | 'opportunities' | 'warRooms' | 'me'
    title?: string
  }
}

const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('@/views/LoginView.vue'), meta: { public: true } },
  // The home screen is the start URL: it ships with the shell, every other screen loads on demand.
  { path: '/', name: 'home', component: HomeView, meta: { tab: 'home' } },
  {
    path: '/customers',
    name: 'customers',
    component: () => import('@/views/CustomersView.vue'),
    meta: { tab: 'customers' },
  },
  {
    path: '/customers/:id(\\d+)',
    name: 'customer',
    component: () => import('@/views/CustomerDetailView.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
  },
  {
    path: '/opportunities',
    name: 'opportunities',
    component: () => import('@/features/opportunities/PoolView.vue'),
    meta: { tab: 'opportunities' },
  },
  {
    path: '/war-rooms',
    name: 'war-rooms',
    component: () => import('@/features/warrooms/WarRoomListView.vue'),
    meta: { tab: 'warRooms' },
  },
  { path: '/war-rooms/new', name: 'war-room-new', component: () => import('@/features/warrooms/WarRoomCreateView.vue') },
  {
    path: '/war-rooms/:id(\\d+)',
    name: 'war-room',
    component: () => import('@/features/warrooms/WarRoomView.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
  },
  { path: '/me', name: 'me', component: () => import('@/views/MeView.vue'), meta: { tab: 'me' } },
  ...workbenchRoutes,
  ...notebookRoutes,
  ...intelRoutes,
  ...opportunityRoutes,
  ...conductRoutes,
  ...assistantRoutes,
  { path: '/:pathMatch(.*)*', redirect: '/' },
]

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
  return true
})
