import type { RouteRecordRaw } from 'vue-router'
import { addTab, addTile } from '@/features/shell/roles'

const ADMIN = ['admin'] as const
addTab(ADMIN, { key: 'users', to: '/admin/users', icon: 'friends-o', label: 'shell.tabs.users', order: 10 })
addTab(ADMIN, { key: 'settings', to: '/admin/settings', icon: 'setting-o', label: 'shell.tabs.settings', order: 20 })
addTile(ADMIN, { key: 'users', to: '/admin/users', icon: 'friends-o', label: 'shell.tiles.users', order: 10 })
addTile(ADMIN, { key: 'policy', to: '/admin/settings/policy', icon: 'gem-o', label: 'shell.tiles.policy', order: 20 })
addTile(ADMIN, { key: 'weights', to: '/admin/settings/weights', icon: 'bar-chart-o', label: 'shell.tiles.weights', order: 30 })
addTile(ADMIN, { key: 'intelSources', to: '/intel/sources', icon: 'bullhorn-o', label: 'shell.tiles.intelSources', order: 40 })

/** The administrator's screens: every admin API has one. */
export const adminRoutes: RouteRecordRaw[] = [
  { path: '/admin/users', name: 'admin-users', component: () => import('./UsersView.vue'), meta: { tab: true, roles: ADMIN } },
  { path: '/admin/settings', name: 'admin-settings', component: () => import('./SettingsView.vue'), meta: { tab: true, roles: ADMIN } },
  { path: '/admin/settings/policy', name: 'admin-policy', component: () => import('./PolicyView.vue'), meta: { roles: ADMIN } },
  { path: '/admin/settings/weights', name: 'admin-weights', component: () => import('./WeightsView.vue'), meta: { roles: ADMIN } },
]
