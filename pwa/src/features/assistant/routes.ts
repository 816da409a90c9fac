import type { RouteRecordRaw } from 'vue-router'

const id = (route: { params: Record<string, unknown> }) => ({ id: Number(route.params.id) })

/** The assistant's screens (今日, 拜访简报, 问展业, 推荐采纳), added to the app router with one spread. */
export const assistantRoutes: RouteRecordRaw[] = [
  { path: '/today', name: 'today', component: () => import('./TodayView.vue') },
  { path: '/ask', name: 'ask', component: () => import('./AskView.vue') },
  { path: '/customers/:id(\\d+)/brief', name: 'customer-brief', component: () => import('./BriefView.vue'), props: id },
  { path: '/admin/next-products', name: 'next-products-report', component: () => import('./AdoptionView.vue') },
]
