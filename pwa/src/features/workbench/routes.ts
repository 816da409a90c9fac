import type { RouteRecordRaw } from 'vue-router'

const id = (route: { params: Record<string, unknown> }) => ({ id: Number(route.params.id) })

/** The workbench screens, added to the app router with one spread. */
export const workbenchRoutes: RouteRecordRaw[] = [
  { path: '/workbench/mirror', name: 'mirror', component: () => import('./MirrorView.vue') },
  { path: '/workbench/products', name: 'sellable-products', component: () => import('./ProductsView.vue') },
  { path: '/workbench/resources', name: 'resources', component: () => import('./ResourcesView.vue') },
  { path: '/workbench/performance', name: 'performance', component: () => import('./PerformanceView.vue') },
  { path: '/customers/:id(\\d+)/360', name: 'customer-360', component: () => import('./Customer360View.vue'), props: id },
  { path: '/customers/:id(\\d+)/visit', name: 'log-visit', component: () => import('./LogVisitView.vue'), props: id },
]
