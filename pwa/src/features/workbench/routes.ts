import type { RouteLocationNormalized, RouteRecordRaw } from 'vue-router'
import { useSessionStore } from '@/stores/session'

const id = (route: { params: Record<string, unknown> }) => ({ id: Number(route.params.id) })
/** ?rm=<id>: a team lead reads a member of the team (the APIs' rm_id). */
const rm = (route: { query: Record<string, unknown> }) => ({ rmId: Number(route.query.rm) || undefined })
/** A team lead has no mirror or performance of their own: they read a member's (?rm=<id>). */
const memberOnlyForLead = (to: RouteLocationNormalized) =>
  useSessionStore().user?.role === 'team_lead' && !Number(to.query.rm) ? { name: 'home' } : true
const RM = ['rm'] as const
const PLAYERS = ['rm', 'team_lead'] as const

/** The workbench screens, added to the app router with one spread. */
export const workbenchRoutes: RouteRecordRaw[] = [
  { path: '/workbench/mirror', name: 'mirror', component: () => import('./MirrorView.vue'), props: rm, meta: { roles: PLAYERS }, beforeEnter: memberOnlyForLead },
  { path: '/workbench/products', name: 'sellable-products', component: () => import('./ProductsView.vue'), meta: { roles: RM } },
  { path: '/workbench/resources', name: 'resources', component: () => import('./ResourcesView.vue'), meta: { roles: RM } },
  { path: '/workbench/performance', name: 'performance', component: () => import('./PerformanceView.vue'), props: rm, meta: { roles: PLAYERS }, beforeEnter: memberOnlyForLead },
  { path: '/customers/:id(\\d+)/360', name: 'customer-360', component: () => import('./Customer360View.vue'), props: id, meta: { roles: PLAYERS } },
  { path: '/customers/:id(\\d+)/visit', name: 'log-visit', component: () => import('./LogVisitView.vue'), props: id, meta: { roles: RM } },
]
