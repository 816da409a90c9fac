import type { RouteRecordRaw } from 'vue-router'
import { addTile } from '@/features/shell/roles'

addTile(['rm', 'team_lead'], { key: 'prospects', to: '/prospects', icon: 'location-o', label: 'shell.tiles.prospects', order: 45 })
addTile(['admin'], { key: 'prospectImports', to: '/prospects/imports', icon: 'upgrade', label: 'shell.tiles.prospectImports', order: 45 })

/** The customer map (客户地图) and prospecting (智能获客), added to the app router with one spread. */
export const prospectRoutes: RouteRecordRaw[] = [
  { path: '/prospects', name: 'prospects', component: () => import('./ProspectsView.vue'), meta: { roles: ['rm', 'team_lead'] } },
  {
    path: '/prospects/:id(\\d+)',
    name: 'prospect',
    component: () => import('./ProspectPage.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
    meta: { roles: ['rm', 'team_lead'] },
  },
  { path: '/prospects/coverage', name: 'prospects-coverage', component: () => import('./CoverageView.vue'), meta: { roles: ['team_lead'] } },
  { path: '/prospects/imports', name: 'prospects-imports', component: () => import('./ImportsAdminView.vue'), meta: { roles: ['admin'] } },
  { path: '/prospects/models', name: 'prospects-models', component: () => import('./ModelsAdminView.vue'), meta: { roles: ['admin'] } },
]
