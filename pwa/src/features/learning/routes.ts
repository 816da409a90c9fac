import type { RouteRecordRaw } from 'vue-router'
import { addTile } from '@/features/shell/roles'

addTile(['rm'], { key: 'learning', to: '/learning', icon: 'medal-o', label: 'learning.tiles.learning', order: 7 })
addTile(['rm'], { key: 'helpers', to: '/helpers', icon: 'friends-o', label: 'learning.tiles.helpers', order: 8 })

const id = (route: { params: Record<string, unknown> }) => ({ id: Number(route.params.id) })

/** Experience transfer (经验资产), product learning and helper tasks (助手), for RMs. */
export const learningRoutes: RouteRecordRaw[] = [
  { path: '/learning', name: 'learning', component: () => import('./LearningView.vue'), meta: { roles: ['rm'] } },
  { path: '/learning/cases', name: 'learning-cases', component: () => import('./CasesView.vue'), meta: { roles: ['rm'] } },
  {
    path: '/learning/cases/:caseId',
    name: 'learning-case',
    component: () => import('./CaseView.vue'),
    props: (route) => ({ caseId: String(route.params.caseId) }),
    meta: { roles: ['rm'] },
  },
  { path: '/learning/quiz', name: 'learning-quiz', component: () => import('./QuizView.vue'), meta: { roles: ['rm'] } },
  { path: '/learning/playbook', name: 'learning-playbook', component: () => import('./PlaybookView.vue'), meta: { roles: ['rm'] } },
  { path: '/helpers', name: 'helpers', component: () => import('./HelpersView.vue'), meta: { roles: ['rm'] } },
  { path: '/helpers/:id(\\d+)', name: 'helper-task', component: () => import('./HelperTaskView.vue'), props: id, meta: { roles: ['rm'] } },
]
