import type { RouteRecordRaw } from 'vue-router'
import { addTab, addTile } from '@/features/shell/roles'

const RISK = ['risk_officer'] as const
addTab(RISK, { key: 'audit', to: '/audit', icon: 'shield-o', label: 'shell.tabs.audit', order: 10 })
addTile(RISK, { key: 'audit', to: '/audit', icon: 'search', label: 'shell.tiles.audit', order: 10 })

/** The risk officer's audit search. */
export const auditRoutes: RouteRecordRaw[] = [
  { path: '/audit', name: 'audit', component: () => import('./AuditView.vue'), meta: { tab: true, roles: RISK } },
]
