import type { RouteRecordRaw } from 'vue-router'

const byId = (route: { params: Record<string, unknown> }) => ({ id: Number(route.params.id) })

/** The opportunity pool's screens (the pool itself is the shell's 商机 tab). */
export const opportunityRoutes: RouteRecordRaw[] = [
  { path: '/opportunities/new', name: 'opportunity-new', component: () => import('./ShareView.vue') },
  { path: '/opportunities/mine', name: 'opportunities-mine', component: () => import('./MineView.vue') },
  { path: '/opportunities/import', name: 'opportunities-import', component: () => import('./ImportView.vue') },
  { path: '/opportunities/team', name: 'opportunities-team', component: () => import('./TeamDeskView.vue') },
  {
    path: '/opportunities/:id(\\d+)',
    name: 'opportunity',
    component: () => import('./DetailView.vue'),
    props: byId,
  },
  // a team lead's actions, each audited with a reason
  { path: '/opportunities/:id(\\d+)/reassign', name: 'opportunity-reassign', component: () => import('./ReassignView.vue'), props: byId },
  { path: '/opportunities/:id(\\d+)/transfer', name: 'opportunity-transfer', component: () => import('./TransferView.vue'), props: byId },
  { path: '/opportunities/:id(\\d+)/benefit', name: 'opportunity-benefit', component: () => import('./BenefitAdjustView.vue'), props: byId },
]
