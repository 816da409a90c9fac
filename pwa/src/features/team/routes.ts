import type { RouteRecordRaw } from 'vue-router'
import { addTile } from '@/features/shell/roles'

const LEAD = ['team_lead'] as const
addTile(LEAD, { key: 'teamBoard', to: '/war-rooms', icon: 'flag-o', label: 'shell.tiles.teamBoard', order: 10 })
addTile(LEAD, { key: 'teamDesk', to: '/opportunities/team', icon: 'gem-o', label: 'shell.tiles.teamDesk', order: 20 })

/** The team lead's team: each member's mirror, performance and customers. */
export const teamRoutes: RouteRecordRaw[] = [
  {
    path: '/team/members/:id(\\d+)',
    name: 'team-member',
    component: () => import('./MemberView.vue'),
    props: (route) => ({ id: Number(route.params.id) }),
    meta: { roles: LEAD },
  },
]
