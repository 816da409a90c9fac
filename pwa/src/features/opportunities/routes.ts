import type { RouteRecordRaw } from 'vue-router'

/** The opportunity pool's screens (the pool itself is the shell's 商机 tab). */
export const opportunityRoutes: RouteRecordRaw[] = [
  { path: '/opportunities/new', name: 'opportunity-new', component: () => import('./ShareView.vue') },
  { path: '/opportunities/mine', name: 'opportunities-mine', component: () => import('./MineView.vue') },
  {
    path: '/opportunities/:id(\\d+)',
    name: 'opportunity',
    component: () => import('./DetailView.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
  },
]
