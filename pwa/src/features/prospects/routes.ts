import type { RouteRecordRaw } from 'vue-router'

/** The customer map (客户地图) and prospecting (智能获客), added to the app router with one spread. */
export const prospectRoutes: RouteRecordRaw[] = [
  { path: '/prospects', name: 'prospects', component: () => import('./ProspectsView.vue') },
  {
    path: '/prospects/:id(\\d+)',
    name: 'prospect',
    component: () => import('./ProspectPage.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
  },
  { path: '/prospects/coverage', name: 'prospects-coverage', component: () => import('./CoverageView.vue') },
  { path: '/prospects/models', name: 'prospects-models', component: () => import('./ModelsAdminView.vue') },
]
