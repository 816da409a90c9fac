import type { RouteRecordRaw } from 'vue-router'

/** The intel screens (情报), added to the app router with one spread. */
export const intelRoutes: RouteRecordRaw[] = [
  { path: '/intel', name: 'intel', component: () => import('./IntelFeedView.vue'), meta: { roles: ['rm', 'team_lead'] } },
  {
    path: '/intel/alerts/:id(\\d+)',
    name: 'intel-alert',
    component: () => import('./AlertDetailView.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
  },
  { path: '/intel/sources', name: 'intel-sources', component: () => import('./SourcesAdminView.vue'), meta: { roles: ['admin'] } },
]
