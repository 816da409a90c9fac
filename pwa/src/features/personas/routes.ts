import type { RouteRecordRaw } from 'vue-router'
import { addTile } from '@/features/shell/roles'

addTile(['team_lead'], { key: 'teamPersonas', to: '/team/personas', icon: 'manager-o', label: 'growth.tiles.team', order: 30 })
addTile(['team_lead'], { key: 'cohorts', to: '/team/cohorts', icon: 'chart-trending-o', label: 'growth.tiles.cohorts', order: 35 })
addTile(['admin'], { key: 'personaThresholds', to: '/admin/settings/personas', icon: 'user-circle-o', label: 'growth.tiles.thresholds', order: 35 })

const byId = (route: { params: Record<string, unknown> }) => ({ id: Number(route.params.id) })

/** Personas from data and mentoring: the RM's persona page and shared notes, the lead's team
 *  personas and cohort view, the admin's thresholds. */
export const personaRoutes: RouteRecordRaw[] = [
  { path: '/persona', name: 'my-persona', component: () => import('./MyPersonaView.vue'), meta: { roles: ['rm'] } },
  { path: '/mentoring/:id(\\d+)', name: 'mentoring', component: () => import('./MentoringView.vue'), props: byId, meta: { roles: ['rm', 'team_lead'] } },
  { path: '/team/personas', name: 'team-personas', component: () => import('./TeamPersonasView.vue'), meta: { roles: ['team_lead'] } },
  { path: '/team/cohorts', name: 'team-cohorts', component: () => import('./CohortView.vue'), meta: { roles: ['team_lead'] } },
  { path: '/admin/settings/personas', name: 'admin-persona-thresholds', component: () => import('./ThresholdsView.vue'), meta: { roles: ['admin'] } },
]
