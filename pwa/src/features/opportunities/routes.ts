import type { RouteRecordRaw } from 'vue-router'
import { addTab, addTile } from '@/features/shell/roles'

const byId = (route: { params: Record<string, unknown> }) => ({ id: Number(route.params.id) })
const RM = ['rm'] as const
const LEAD = ['team_lead'] as const

addTab(RM, { key: 'opportunities', to: '/opportunities', icon: 'gem-o', label: 'tabs.opportunities', order: 20 })
addTab(LEAD, { key: 'teamDesk', to: '/opportunities/team', icon: 'gem-o', label: 'shell.tabs.teamDesk', order: 20 })
addTile(RM, { key: 'opportunities', to: '/opportunities', icon: 'gem-o', label: 'home.opportunityFeed', order: 30 })
addTile(RM, { key: 'myOpportunities', to: '/opportunities/mine', icon: 'bookmark-o', label: 'opp.mine', order: 35 })

/** The opportunity pool's screens: the RM's pool (商机 tab) and the team lead's desk. */
export const opportunityRoutes: RouteRecordRaw[] = [
  {
    path: '/opportunities',
    name: 'opportunities',
    component: () => import('./PoolView.vue'),
    meta: { tab: true, roles: RM },
  },
  { path: '/opportunities/new', name: 'opportunity-new', component: () => import('./ShareView.vue'), meta: { roles: RM } },
  { path: '/opportunities/mine', name: 'opportunities-mine', component: () => import('./MineView.vue'), meta: { roles: RM } },
  { path: '/opportunities/import', name: 'opportunities-import', component: () => import('./ImportView.vue'), meta: { roles: RM } },
  {
    path: '/opportunities/team',
    name: 'opportunities-team',
    component: () => import('./TeamDeskView.vue'),
    meta: { tab: true, roles: LEAD },
  },
  {
    path: '/opportunities/:id(\\d+)',
    name: 'opportunity',
    component: () => import('./DetailView.vue'),
    props: byId,
    meta: { roles: ['rm', 'team_lead'] },
  },
  // a team lead's actions, each audited with a reason
  { path: '/opportunities/:id(\\d+)/reassign', name: 'opportunity-reassign', component: () => import('./ReassignView.vue'), props: byId, meta: { roles: LEAD } },
  { path: '/opportunities/:id(\\d+)/transfer', name: 'opportunity-transfer', component: () => import('./TransferView.vue'), props: byId, meta: { roles: LEAD } },
  { path: '/opportunities/:id(\\d+)/benefit', name: 'opportunity-benefit', component: () => import('./BenefitAdjustView.vue'), props: byId, meta: { roles: LEAD } },
]
