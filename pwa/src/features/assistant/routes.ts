import type { RouteRecordRaw } from 'vue-router'
import { addTile } from '@/features/shell/roles'

addTile(['rm'], { key: 'today', to: '/today', icon: 'todo-list-o', label: 'shell.tiles.today', order: 5 })
addTile(['rm'], { key: 'ask', to: '/ask', icon: 'chat-o', label: 'shell.tiles.ask', order: 6 })
addTile(['admin'], { key: 'nextProducts', to: '/admin/next-products', icon: 'chart-trending-o', label: 'shell.tiles.nextProducts', order: 50 })

const id = (route: { params: Record<string, unknown> }) => ({ id: Number(route.params.id) })

/** The assistant's screens (今日, 拜访简报, 问展业, 推荐采纳), added to the app router with one spread. */
export const assistantRoutes: RouteRecordRaw[] = [
  { path: '/today', name: 'today', component: () => import('./TodayView.vue'), meta: { roles: ['rm'] } },
  { path: '/ask', name: 'ask', component: () => import('./AskView.vue'), meta: { roles: ['rm', 'team_lead'] } },
  { path: '/customers/:id(\\d+)/brief', name: 'customer-brief', component: () => import('./BriefView.vue'), props: id, meta: { roles: ['rm', 'team_lead'] } },
  { path: '/admin/next-products', name: 'next-products-report', component: () => import('./AdoptionView.vue'), meta: { roles: ['admin'] } },
]
