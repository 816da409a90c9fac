import type { RouteRecordRaw } from 'vue-router'

const byId = (route: { params: Record<string, unknown> }) => ({ id: Number(route.params.id) })

/** Conduct oversight screens for risk officers and team leads (the server refuses everyone else). */
export const conductRoutes: RouteRecordRaw[] = [
  { path: '/conduct', name: 'conduct', component: () => import('./RankedView.vue') },
  { path: '/conduct/rms/:id(\\d+)', name: 'conduct-rm', component: () => import('./RmView.vue'), props: byId },
  { path: '/conduct/cases', name: 'conduct-cases', component: () => import('./CasesView.vue') },
  { path: '/conduct/cases/:id(\\d+)', name: 'conduct-case', component: () => import('./CaseView.vue'), props: byId },
]
