import type { RouteRecordRaw } from 'vue-router'

export const meRoutes: RouteRecordRaw[] = [
  { path: '/me', name: 'me', component: () => import('./MeView.vue'), meta: { tab: true } },
]
