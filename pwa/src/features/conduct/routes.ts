import type { RouteRecordRaw } from 'vue-router'
import type { Role } from '@/api/types'
import { addTab, addTile } from '@/features/shell/roles'

const OVERSIGHT: Role[] = ['risk_officer', 'team_lead']
addTab(['risk_officer'], { key: 'conduct', to: '/conduct', icon: 'eye-o', label: 'shell.tabs.conduct', order: 20 })
addTile(OVERSIGHT, { key: 'conduct', to: '/conduct', icon: 'eye-o', label: 'shell.tiles.conduct', order: 30 })

const byId = (route: { params: Record<string, unknown> }) => ({ id: Number(route.params.id) })

/** Conduct oversight screens for risk officers and team leads (the server refuses everyone else). */
export const conductRoutes: RouteRecordRaw[] = [
  { path: '/conduct', name: 'conduct', component: () => import('./RankedView.vue'), meta: { tab: true, roles: OVERSIGHT } },
  { path: '/conduct/rms/:id(\\d+)', name: 'conduct-rm', component: () => import('./RmView.vue'), props: byId, meta: { roles: OVERSIGHT } },
  { path: '/conduct/cases', name: 'conduct-cases', component: () => import('./CasesView.vue'), meta: { roles: OVERSIGHT } },
  { path: '/conduct/cases/:id(\\d+)', name: 'conduct-case', component: () => import('./CaseView.vue'), props: byId, meta: { roles: OVERSIGHT } },
]
